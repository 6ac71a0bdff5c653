package mlpackage

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"github.com/minilm-coreml/minilm/go/internal/float16"
)

// BlobDataType is the data type recorded in a blob's metadata header (MILBlob's
// BlobDataType, a separate numbering from MIL's DataType).
type BlobDataType uint32

// MILBlob BlobDataType values (coremltools mlmodel/src/MILBlob/Blob/BlobDataType.hpp).
const (
	BlobFloat16      BlobDataType = 1
	BlobFloat32      BlobDataType = 2
	BlobUInt8        BlobDataType = 3
	BlobInt8         BlobDataType = 4
	BlobBFloat16     BlobDataType = 5
	BlobInt16        BlobDataType = 6
	BlobUInt16       BlobDataType = 7
	BlobInt4         BlobDataType = 8
	BlobUInt1        BlobDataType = 9
	BlobUInt2        BlobDataType = 10
	BlobUInt4        BlobDataType = 11
	BlobUInt3        BlobDataType = 12
	BlobUInt6        BlobDataType = 13
	BlobInt32        BlobDataType = 14
	BlobUInt32       BlobDataType = 15
	BlobFloat8E4M3FN BlobDataType = 16
	BlobFloat8E5M2   BlobDataType = 17
)

var blobToMIL = map[BlobDataType]DataType{
	BlobFloat16: Float16, BlobFloat32: Float32, BlobUInt8: UInt8, BlobInt8: Int8,
	BlobBFloat16: BFloat16, BlobInt16: Int16, BlobUInt16: UInt16, BlobInt4: Int4,
	BlobUInt1: UInt1, BlobUInt2: UInt2, BlobUInt4: UInt4, BlobUInt3: UInt3, BlobUInt6: UInt6,
	BlobInt32: Int32, BlobUInt32: UInt32, BlobFloat8E4M3FN: Float8E4M3FN, BlobFloat8E5M2: Float8E5M2,
}

// MIL returns the MIL DataType of a blob data type.
func (t BlobDataType) MIL() (DataType, bool) {
	d, ok := blobToMIL[t]
	return d, ok
}

// String implements fmt.Stringer.
func (t BlobDataType) String() string {
	if d, ok := t.MIL(); ok {
		return d.String()
	}
	return "BlobDataType(" + itoa(int64(t)) + ")"
}

// Blob storage format constants.
const (
	blobHeaderSize = 64
	blobMetaSize   = 64
	blobSentinel   = 0xDEADBEEF
	blobVersion    = 2
	blobAlignment  = 64
)

// BlobFile is a MIL blob storage file held in memory.
type BlobFile struct {
	data    []byte
	Count   uint32 // number of blobs the header announces
	Version uint32
}

// BlobMeta is one blob's metadata header.
type BlobMeta struct {
	MetaOffset  uint64 // where the header is (what MIL consts refer to)
	DataType    BlobDataType
	Size        uint64 // bytes of data
	DataOffset  uint64
	PaddingBits uint64 // unused bits at the end of sub-byte data
}

// OpenBlobFile reads a blob file into memory and checks its header.
func OpenBlobFile(path string) (*BlobFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mlpackage: %w", err)
	}
	f, err := ParseBlobFile(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// ParseBlobFile checks the storage header of data (which it keeps, without copying).
func ParseBlobFile(data []byte) (*BlobFile, error) {
	if len(data) < blobHeaderSize {
		return nil, fmt.Errorf("mlpackage: blob file of %d bytes is shorter than its %d-byte header", len(data), blobHeaderSize)
	}
	f := &BlobFile{data: data, Count: binary.LittleEndian.Uint32(data), Version: binary.LittleEndian.Uint32(data[4:])}
	if f.Version != blobVersion {
		return nil, fmt.Errorf("mlpackage: blob file version %d, only version %d is supported", f.Version, blobVersion)
	}
	return f, nil
}

// Size is the file's length in bytes.
func (f *BlobFile) Size() int64 { return int64(len(f.data)) }

// Meta reads and validates the metadata header at offset.
func (f *BlobFile) Meta(offset uint64) (BlobMeta, error) {
	if offset < blobHeaderSize || offset > uint64(len(f.data)) || uint64(len(f.data))-offset < blobMetaSize {
		return BlobMeta{}, fmt.Errorf("mlpackage: blob metadata offset %d outside the %d-byte file", offset, len(f.data))
	}
	h := f.data[offset : offset+blobMetaSize]
	if s := binary.LittleEndian.Uint32(h); s != blobSentinel {
		return BlobMeta{}, fmt.Errorf("mlpackage: blob at offset %d: bad sentinel %#x", offset, s)
	}
	m := BlobMeta{
		MetaOffset:  offset,
		DataType:    BlobDataType(binary.LittleEndian.Uint32(h[4:])),
		Size:        binary.LittleEndian.Uint64(h[8:]),
		DataOffset:  binary.LittleEndian.Uint64(h[16:]),
		PaddingBits: binary.LittleEndian.Uint64(h[24:]),
	}
	if _, ok := m.DataType.MIL(); !ok {
		return BlobMeta{}, fmt.Errorf("mlpackage: blob at offset %d: unknown data type %d", offset, uint32(m.DataType))
	}
	if m.DataOffset > uint64(len(f.data)) || m.Size > uint64(len(f.data))-m.DataOffset {
		return BlobMeta{}, fmt.Errorf("mlpackage: blob at offset %d: data [%d, +%d) outside the %d-byte file", offset, m.DataOffset, m.Size, len(f.data))
	}
	if m.PaddingBits >= 8 || m.PaddingBits > m.Size*8 {
		return BlobMeta{}, fmt.Errorf("mlpackage: blob at offset %d: %d padding bits", offset, m.PaddingBits)
	}
	return m, nil
}

// Raw returns the metadata and the data bytes (a view into the file) of the blob at offset.
func (f *BlobFile) Raw(offset uint64) (BlobMeta, []byte, error) {
	m, err := f.Meta(offset)
	if err != nil {
		return m, nil, err
	}
	return m, f.data[m.DataOffset : m.DataOffset+m.Size], nil
}

// Blobs walks the file from its first metadata header, each blob's header following the
// previous blob's data at the next 64-byte boundary, and returns every header (as many as
// the storage header counts).
func (f *BlobFile) Blobs() ([]BlobMeta, error) {
	var out []BlobMeta
	off := uint64(blobHeaderSize)
	for i := uint32(0); i < f.Count; i++ {
		m, err := f.Meta(off)
		if err != nil {
			return out, fmt.Errorf("blob %d of %d: %w", i, f.Count, err)
		}
		out = append(out, m)
		end := m.DataOffset + m.Size
		if end < off+blobMetaSize {
			return out, fmt.Errorf("mlpackage: blob %d: data offset %d precedes its header", i, m.DataOffset)
		}
		off = (end + blobAlignment - 1) / blobAlignment * blobAlignment
	}
	return out, nil
}

// Elements decodes the blob at offset as n values of MIL type dt, widened to float32 (integer
// types exactly up to 2^24). The blob's own data type must match dt.
func (f *BlobFile) Elements(offset uint64, dt DataType, n int) ([]float32, error) {
	m, raw, err := f.Raw(offset)
	if err != nil {
		return nil, err
	}
	if bd, _ := m.DataType.MIL(); bd != dt {
		return nil, fmt.Errorf("mlpackage: blob at offset %d holds %v, the program declares %v", offset, bd, dt)
	}
	if bits := dt.Bits(); bits > 0 && n >= 0 && bits < 8 {
		// Sub-byte data: size and padding must account for exactly n elements.
		if used := m.Size*8 - m.PaddingBits; used != uint64(n)*uint64(bits) && !(m.PaddingBits == 0 && used >= uint64(n)*uint64(bits) && used-uint64(n)*uint64(bits) < 8) {
			return nil, fmt.Errorf("mlpackage: blob at offset %d: %d bytes with %d padding bits do not hold %d %v values", offset, m.Size, m.PaddingBits, n, dt)
		}
	}
	return DecodeElements(dt, raw, n)
}

// DecodeElements decodes n little-endian values of type dt from raw (sub-byte types packed
// least significant bit first) into float32.
func DecodeElements(dt DataType, raw []byte, n int) ([]float32, error) {
	bits := dt.Bits()
	if bits == 0 {
		return nil, fmt.Errorf("mlpackage: cannot decode %v values", dt)
	}
	if n < 0 || uint64(n)*uint64(bits) > uint64(len(raw))*8 {
		return nil, fmt.Errorf("mlpackage: %d bytes hold fewer than %d %v values", len(raw), n, dt)
	}
	if bits >= 8 && uint64(n)*uint64(bits/8) != uint64(len(raw)) {
		return nil, fmt.Errorf("mlpackage: %d bytes are not %d %v values", len(raw), n, dt)
	}
	out := make([]float32, n)
	switch dt {
	case Float16:
		for i := range out {
			out[i] = float16.ToFloat32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case BFloat16:
		for i := range out {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
		}
	case Float32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case Float64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		}
	case Int8:
		for i := range out {
			out[i] = float32(int8(raw[i]))
		}
	case UInt8, Bool:
		for i := range out {
			out[i] = float32(raw[i])
		}
	case Int16:
		for i := range out {
			out[i] = float32(int16(binary.LittleEndian.Uint16(raw[2*i:])))
		}
	case UInt16:
		for i := range out {
			out[i] = float32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case Int32:
		for i := range out {
			out[i] = float32(int32(binary.LittleEndian.Uint32(raw[4*i:])))
		}
	case UInt32:
		for i := range out {
			out[i] = float32(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case Int64:
		for i := range out {
			out[i] = float32(int64(binary.LittleEndian.Uint64(raw[8*i:])))
		}
	case UInt64:
		for i := range out {
			out[i] = float32(binary.LittleEndian.Uint64(raw[8*i:]))
		}
	case Int4, UInt4, UInt1, UInt2, UInt3, UInt6:
		mask := uint32(1)<<uint(bits) - 1
		for i := range out {
			bit := uint64(i) * uint64(bits)
			byteI := bit / 8
			// Up to 6 bits starting anywhere in a byte span at most two bytes.
			w := uint32(raw[byteI])
			if byteI+1 < uint64(len(raw)) {
				w |= uint32(raw[byteI+1]) << 8
			}
			v := (w >> (bit % 8)) & mask
			if dt == Int4 && v >= 8 {
				out[i] = float32(int32(v) - 16)
			} else {
				out[i] = float32(v)
			}
		}
	default:
		return nil, fmt.Errorf("mlpackage: cannot decode %v values", dt)
	}
	return out, nil
}
