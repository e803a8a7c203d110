// Package hostile makes the adversarial inputs that tests feed to gdiag's
// readers: gzip decompression bombs, single-member and multi-member. It
// is for tests only; nothing in a command or library imports it.
package hostile

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"sync"
)

const (
	lead    = 1 << 20  // zeros before the repeated segment: more than deflate's 32 KiB window
	segment = 16 << 20 // zeros in one repeated segment
)

// deflated returns a deflate stream of lead zero bytes and one of segment
// more, each ended by a sync flush; it is made once.
var deflated = sync.OnceValues(func() (leadData, segmentData []byte) {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	zero := make([]byte, 1<<20)
	w.Write(zero[:lead])
	w.Flush()
	leadData = bytes.Clone(b.Bytes())
	b.Reset()
	for range segment / len(zero) {
		w.Write(zero)
	}
	w.Flush()
	return leadData, bytes.Clone(b.Bytes())
})

// GzipBomb returns one gzip member that inflates to at least n zero bytes
// (n rounded up to 1 MiB plus a multiple of 16 MiB): about a thousandth
// of that in gzip, 1 GiB in about 1 MB. It is made in milliseconds: a
// deflate segment of zeros, ended by a sync flush and so byte-aligned,
// refers only to the zeros before it and can be repeated as it is.
func GzipBomb(n int64) []byte {
	leadData, segmentData := deflated()
	k := max(0, (n-lead+segment-1)/segment)
	total := lead + k*segment
	out := make([]byte, 0, 10+len(leadData)+int(k)*len(segmentData)+10)
	out = append(out, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff) // gzip header: deflate, no name, unknown OS
	out = append(out, leadData...)
	for range k {
		out = append(out, segmentData...)
	}
	out = append(out, 0x03, 0x00) // an empty final block
	zero := make([]byte, 1<<20)
	var crc uint32
	for range total / int64(len(zero)) {
		crc = crc32.Update(crc, crc32.IEEETable, zero)
	}
	out = binary.LittleEndian.AppendUint32(out, crc)
	return binary.LittleEndian.AppendUint32(out, uint32(total))
}

// GzipMembers returns size bytes or a little more of concatenated gzip
// members, each inflating to member zero bytes (rounded as GzipBomb
// rounds): a reader that takes every member, as compress/gzip does by
// default, inflates about 1000 times size.
func GzipMembers(size int, member int64) []byte {
	one := GzipBomb(member)
	out := make([]byte, 0, size+len(one))
	for len(out) < size {
		out = append(out, one...)
	}
	return out
}
