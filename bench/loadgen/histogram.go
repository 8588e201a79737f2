package loadgen

import (
	"math/bits"
	"time"
)

// subBits is the number of mantissa bits kept per power of two: 16 buckets
// per octave, so a bucket is at most 1/16 (6.25%) of its value wide.
const subBits = 4

const (
	subBuckets = 1 << subBits
	// nBuckets covers every non-negative int64: values below subBuckets
	// exactly, then subBuckets buckets for each power of two up to 2^63.
	nBuckets = (64 - subBits) * subBuckets
)

// Histogram counts durations in logarithmic buckets: exact below 16 ns, then
// 16 buckets per power of two, so a quantile is reported within 3.2% of a
// value that was recorded (the middle of its bucket). Negative durations count
// as 0. It has a fixed size (about 8 KiB) whatever it holds.
//
// The zero value is an empty histogram, ready to use. A Histogram is not safe
// for concurrent use: give each goroutine its own and Merge them afterwards.
type Histogram struct {
	counts [nBuckets]uint64
	total  uint64
	sum    uint64 // nanoseconds
	max    int64
}

// bucketOf returns the bucket index of v ≥ 0.
func bucketOf(v int64) int {
	if v < subBuckets {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - 1 // ≥ subBits
	sub := int(v>>(e-subBits)) & (subBuckets - 1)
	return (e-subBits+1)*subBuckets + sub
}

// bucketRange returns the smallest and largest value of bucket i.
func bucketRange(i int) (lo, hi int64) {
	if i < subBuckets {
		return int64(i), int64(i)
	}
	e := i/subBuckets + subBits - 1
	sub := int64(i % subBuckets)
	shift := e - subBits
	lo = (subBuckets + sub) << shift
	hi = lo + (1 << shift) - 1
	return lo, hi
}

// Record adds one duration. Goroutine owning the histogram.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)]++
	h.total++
	h.sum += uint64(v)
	if v > h.max {
		h.max = v
	}
}

// Merge adds every count of o to h. o is not changed. Goroutine owning h,
// once o's owner is done with it.
func (h *Histogram) Merge(o *Histogram) {
	for i, n := range o.counts {
		h.counts[i] += n
	}
	h.total += o.total
	h.sum += o.sum
	if o.max > h.max {
		h.max = o.max
	}
}

// Count returns the number of durations recorded. Goroutine owning the
// histogram.
func (h *Histogram) Count() uint64 { return h.total }

// Max returns the largest duration recorded, exactly, or 0. Goroutine owning
// the histogram.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean returns the mean of the durations recorded, exactly, or 0. Goroutine
// owning the histogram.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / h.total)
}

// Quantile returns the duration below which a fraction q (0 to 1) of the
// recorded durations lie: the middle of the bucket holding the rank
// ceil(q·Count), never more than Max. It returns 0 for an empty histogram.
// Goroutine owning the histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(q * float64(h.total))
	if float64(rank) < q*float64(h.total) || rank == 0 {
		rank++
	}
	var seen uint64
	for i, n := range h.counts {
		seen += n
		if seen >= rank {
			lo, hi := bucketRange(i)
			mid := lo + (hi-lo)/2
			return time.Duration(min(mid, h.max))
		}
	}
	return time.Duration(h.max)
}
