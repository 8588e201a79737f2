package transporttest

// ChunkSizes are the piece sizes at which protocol tests feed their input
// with [Chunks]: one, two and three bytes at a time, then all at once (0).
var ChunkSizes = []int{1, 2, 3, 0}

// Chunks splits data into consecutive pieces of size bytes, the last one
// shorter if need be. A size of 0 or less, or of len(data) or more, gives one
// piece holding all of data. Empty data gives one empty piece, so that a loop
// over the pieces still delivers it once.
//
// The pieces share data's memory, each with its capacity cut to its length:
// appending to one never overwrites the next. Any goroutine.
func Chunks(data []byte, size int) [][]byte {
	if size <= 0 || size >= len(data) {
		return [][]byte{data[:len(data):len(data)]}
	}
	pieces := make([][]byte, 0, (len(data)+size-1)/size)
	for len(data) > size {
		pieces = append(pieces, data[:size:size])
		data = data[size:]
	}
	return append(pieces, data[:len(data):len(data)])
}
