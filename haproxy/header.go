package haproxy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/pires/go-proxyproto"
)

// Errors with which a connection whose header was refused is closed, through
// Transport.CloseWithError: the reactor logs the reason once, at warn level,
// with the peer's address (the proxy's). Each is wrapped with what was
// wrong; test for them with [errors.Is].
var (
	// ErrMalformedHeader means the connection did not start with a valid
	// PROXY protocol header: no v1 or v2 signature, or a header the parser
	// refused (an unknown command or family, a bad address or port, a
	// line without CR LF, malformed TLVs, a CRC32C TLV that does not
	// match). It wraps the go-proxyproto error when there is one.
	ErrMalformedHeader = errors.New("haproxy: malformed PROXY protocol header")
	// ErrHeaderTooLarge means the header is longer than the protocol or
	// the parser allows: a v1 line with no LF in its first 107 bytes, or a
	// v2 header whose length field passes proxyproto.MaxV2HeaderSize (4096
	// bytes of addresses and TLVs by default).
	ErrHeaderTooLarge = errors.New("haproxy: PROXY protocol header too large")
	// ErrHeaderTimeout means no complete header arrived within the header
	// timeout (see [WithHeaderTimeout]).
	ErrHeaderTimeout = errors.New("haproxy: no PROXY protocol header in time")
	// ErrHeaderTruncated means the peer closed its side (FIN) after part of
	// a header. A peer that closes before sending any byte (a proxy's
	// connect-only health check) is closed quietly instead.
	ErrHeaderTruncated = errors.New("haproxy: connection closed inside the PROXY protocol header")
)

// v1MaxLen is the longest v1 header, CR LF included (the specification's
// worst case, "PROXY UNKNOWN" with two full IPv6 addresses and ports).
const v1MaxLen = 107

// v2FixedLen is the length of a v2 header's fixed part: the 12-byte
// signature, version and command, family and protocol, and the 16-bit length
// of what follows.
const v2FixedLen = 16

// v1Signature starts every v1 header ("PROXY" and one space).
var v1Signature = []byte("PROXY ")

// headerLen frames a PROXY protocol header at the start of b, the bytes
// received so far, as a bufio.SplitFunc frames a token: it returns the
// header's length n > 0 once b holds the whole header (b[:n]; what follows
// is the protocol's), (0, nil) when more bytes are needed, and (0, err) when
// b cannot start a header, err wrapping ErrMalformedHeader or
// ErrHeaderTooLarge. It decides as early as the bytes allow: a wrong first
// byte is refused at once, without waiting for the rest of a signature.
// It looks at no more than the header's bytes, so the answer is the same
// however b was split into segments.
func headerLen(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	switch b[0] {
	case v1Signature[0]:
		k := min(len(b), len(v1Signature))
		if !bytes.Equal(b[:k], v1Signature[:k]) {
			return 0, fmt.Errorf("%w: no v1 or v2 signature", ErrMalformedHeader)
		}
		if i := bytes.IndexByte(b[:min(len(b), v1MaxLen)], '\n'); i >= 0 {
			return i + 1, nil
		}
		if len(b) >= v1MaxLen {
			return 0, fmt.Errorf("%w: no LF in the first %d bytes of a v1 header", ErrHeaderTooLarge, v1MaxLen)
		}
		return 0, nil
	case proxyproto.SIGV2[0]:
		sig := proxyproto.SIGV2
		k := min(len(b), len(sig))
		if !bytes.Equal(b[:k], sig[:k]) {
			return 0, fmt.Errorf("%w: no v1 or v2 signature", ErrMalformedHeader)
		}
		if len(b) < v2FixedLen {
			return 0, nil
		}
		n := binary.BigEndian.Uint16(b[14:16])
		if n > proxyproto.MaxV2HeaderSize {
			return 0, fmt.Errorf("%w: v2 length %d is over %d", ErrHeaderTooLarge, n, proxyproto.MaxV2HeaderSize)
		}
		if total := v2FixedLen + int(n); len(b) >= total {
			return total, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("%w: no v1 or v2 signature", ErrMalformedHeader)
}

// parseHeader parses a whole header, as framed by headerLen, with
// go-proxyproto, and checks its TLVs: they must split, and a CRC32C TLV
// must match. It returns the header and its TLVs, or an error wrapping
// ErrMalformedHeader.
func parseHeader(b []byte) (*proxyproto.Header, []proxyproto.TLV, error) {
	// The reader's buffer holds the whole header after its first fill: the
	// v1 parser refuses a header that is not buffered in one read.
	h, err := proxyproto.Read(bufio.NewReaderSize(bytes.NewReader(b), len(b)))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformedHeader, err)
	}
	if h.Version != 2 {
		return h, nil, nil
	}
	tlvs, err := h.TLVs()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformedHeader, err)
	}
	if err := checkCRC32C(b, tlvs); err != nil {
		return nil, nil, err
	}
	return h, tlvs, nil
}

// castagnoli is the CRC32C table of PP2_TYPE_CRC32C.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checkCRC32C verifies the PP2_TYPE_CRC32C TLV of the v2 header b, if it has
// one: the checksum of the whole header with the TLV's value zeroed must
// equal the value (the specification, section 2.2.3: a receiver that
// supports it must drop a connection whose checksum does not match).
// go-proxyproto leaves this to its caller.
func checkCRC32C(b []byte, tlvs []proxyproto.TLV) error {
	found := false
	for _, t := range tlvs {
		found = found || t.Type == proxyproto.PP2_TYPE_CRC32C
	}
	if !found {
		return nil
	}
	// Walk the raw TLVs again to find where the value sits in b.
	n := int(binary.BigEndian.Uint16(b[14:16]))
	off := v2FixedLen + addrLen(b[13])
	if off > v2FixedLen+n {
		return fmt.Errorf("%w: address block longer than the header", ErrMalformedHeader)
	}
	for i := off; i+3 <= v2FixedLen+n; {
		typ, l := proxyproto.PP2Type(b[i]), int(binary.BigEndian.Uint16(b[i+1:i+3]))
		v := i + 3
		if typ == proxyproto.PP2_TYPE_CRC32C {
			if l != 4 || v+4 > len(b) {
				return fmt.Errorf("%w: CRC32C TLV of %d bytes", ErrMalformedHeader, l)
			}
			want := binary.BigEndian.Uint32(b[v : v+4])
			c := crc32.Update(0, castagnoli, b[:v])
			c = crc32.Update(c, castagnoli, []byte{0, 0, 0, 0})
			c = crc32.Update(c, castagnoli, b[v+4:v2FixedLen+n])
			if c != want {
				return fmt.Errorf("%w: CRC32C %08x, computed %08x", ErrMalformedHeader, want, c)
			}
			return nil
		}
		i = v + l
	}
	return nil
}

// addrLen is the length of a v2 address block for the family and protocol
// byte fam (LOCAL headers with another length never carry TLVs that
// parseHeader returns: go-proxyproto discards such a block whole).
func addrLen(fam byte) int {
	switch fam >> 4 {
	case 1: // AF_INET
		return 12
	case 2: // AF_INET6
		return 36
	case 3: // AF_UNIX
		return 216
	}
	return 0
}
