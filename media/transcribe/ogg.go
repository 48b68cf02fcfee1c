package transcribe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// An Ogg page starts with a 27-byte header: "OggS", version, flags, the
// granule position (int64 LE at 6), serial (at 14), sequence, CRC and the
// number of segments (at 26), then the segment table and the body (RFC
// 3533). Opus counts granules in 48 kHz samples (RFC 7845).
const (
	oggHeaderLen = 27
	opusRate     = 48000
)

var (
	oggMagic  = []byte("OggS")
	opusMagic = []byte("OpusHead")
)

// errNotOgg says the data is not an Ogg stream at all.
var errNotOgg = errors.New("not an Ogg stream")

// oggPage is one parsed page: its granule position, serial number and
// body (the packets' bytes, laced together).
type oggPage struct {
	granule int64
	serial  uint32
	body    []byte
}

// nextPage parses the page at the start of data and returns it with its
// total length.
func nextPage(data []byte) (oggPage, int, error) {
	if len(data) < oggHeaderLen {
		if bytes.HasPrefix(oggMagic, data[:min(len(data), 4)]) {
			return oggPage{}, 0, errors.New("truncated Ogg page header")
		}
		return oggPage{}, 0, errNotOgg
	}
	if !bytes.Equal(data[:4], oggMagic) {
		return oggPage{}, 0, errNotOgg
	}
	if data[4] != 0 {
		return oggPage{}, 0, fmt.Errorf("unsupported Ogg version %d", data[4])
	}
	nseg := int(data[26])
	end := oggHeaderLen + nseg
	if len(data) < end {
		return oggPage{}, 0, errors.New("truncated Ogg segment table")
	}
	size := 0
	for _, s := range data[oggHeaderLen:end] {
		size += int(s)
	}
	if len(data) < end+size {
		return oggPage{}, 0, errors.New("truncated Ogg page body")
	}
	p := oggPage{
		granule: int64(binary.LittleEndian.Uint64(data[6:14])),
		serial:  binary.LittleEndian.Uint32(data[14:18]),
		body:    data[end : end+size],
	}
	return p, end + size, nil
}

// IsOggOpus reports whether data starts with an Ogg page whose first
// packet is an Opus identification header ("OpusHead"): what a WhatsApp
// voice note is.
func IsOggOpus(data []byte) bool {
	p, _, err := nextPage(data)
	return err == nil && bytes.HasPrefix(p.body, opusMagic)
}

// Duration returns how long an Ogg/Opus stream plays: the granule
// position of its last page, less the pre-skip of its OpusHead, in 48 kHz
// samples. Every page is checked, so truncated or malformed data is an
// error rather than a guess.
func Duration(data []byte) (time.Duration, error) {
	first, n, err := nextPage(data)
	if err != nil {
		return 0, err
	}
	// OpusHead: magic (8), version (1), channels (1), pre-skip (uint16 LE).
	if !bytes.HasPrefix(first.body, opusMagic) {
		return 0, errors.New("not an Opus stream: the first packet is not OpusHead")
	}
	if len(first.body) < 19 {
		return 0, errors.New("truncated OpusHead")
	}
	preSkip := int64(binary.LittleEndian.Uint16(first.body[10:12]))
	last := int64(-1)
	for rest := data[n:]; len(rest) > 0; rest = rest[n:] {
		var p oggPage
		p, n, err = nextPage(rest)
		if err != nil {
			return 0, fmt.Errorf("at byte %d: %w", len(data)-len(rest), err)
		}
		// Header pages have granule 0, a page on which no packet ends has
		// -1, and pages of another logical stream (a multiplexed file) do
		// not count.
		if p.serial == first.serial && p.granule > 0 {
			last = p.granule
		}
	}
	if last < 0 {
		return 0, errors.New("no audio pages")
	}
	samples := max(last-preSkip, 0)
	const maxSeconds = int64(1<<63-1) / int64(time.Second)
	if samples/opusRate >= maxSeconds {
		return 0, fmt.Errorf("implausible granule position %d", last)
	}
	secs, rem := samples/opusRate, samples%opusRate
	return time.Duration(secs)*time.Second + time.Duration(rem)*time.Second/opusRate, nil
}
