package tokenizer

import "sync"

//go:generate sh -c "cd ../.. && python3 python/reference/make_bert_tables.py --out go/tokenizer/tables_gen.go"

// runeRange is an inclusive range of code points.
type runeRange struct{ lo, hi rune }

// cccRange gives the canonical combining class of an inclusive range of code points.
type cccRange struct {
	lo, hi rune
	ccc    uint8
}

func inRanges(rs []runeRange, r rune) bool {
	lo, hi := 0, len(rs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch {
		case rs[m].hi < r:
			lo = m + 1
		case rs[m].lo > r:
			hi = m
		default:
			return true
		}
	}
	return false
}

// Character classes of the normalizer and pre-tokenizer, precomputed for ASCII.
const (
	classRemoved    = 1 << iota // clean_text deletes it
	classSpace                  // clean_text turns it into a space
	classChinese                // handle_chinese_chars isolates it
	classNonspacing             // strip_accents deletes it
	classWhitespace             // the pre-tokenizer splits on it and drops it
	classPunct                  // the pre-tokenizer isolates it
)

var (
	asciiClass [128]uint8
	asciiLower [128]rune

	// bmpClass and bmpCCC cache class and combiningClass for the Basic Multilingual Plane;
	// built by prepareTables (about 64K range lookups each), before the first Load returns.
	bmpClass, bmpCCC *[0x10000]uint8
	tablesOnce       sync.Once
)

func prepareTables() {
	tablesOnce.Do(func() {
		var class, ccc [0x10000]uint8
		for r := rune(0); r < 0x10000; r++ {
			class[r] = slowClass(r)
			ccc[r] = slowCombiningClass(r)
			if ccc[r] != 0 && class[r]&(classWhitespace|classPunct|classSpace) != 0 {
				// feedDecomposed relies on marks never ending a word.
				panic("tokenizer: a combining mark is whitespace or punctuation")
			}
		}
		bmpClass, bmpCCC = &class, &ccc
	})
}

func init() {
	for r := rune(0); r < 128; r++ {
		asciiClass[r] = slowClass(r)
		asciiLower[r] = r
		if l, ok := lowercases[r]; ok {
			if len([]rune(l)) != 1 {
				panic("tokenizer: ASCII lowercase maps to several characters")
			}
			asciiLower[r] = []rune(l)[0]
		}
		if _, ok := decompositions[r]; ok || asciiClass[r]&classNonspacing != 0 || slowCombiningClass(r) != 0 {
			panic("tokenizer: the ASCII fast path does not hold for the generated tables")
		}
	}
}

func slowClass(r rune) uint8 {
	var c uint8
	if inRanges(removedRanges, r) {
		c |= classRemoved
	}
	if inRanges(spaceRanges, r) {
		c |= classSpace
	}
	if inRanges(chineseRanges, r) {
		c |= classChinese
	}
	if inRanges(nonspacingRanges, r) {
		c |= classNonspacing
	}
	if inRanges(whitespaceRanges, r) {
		c |= classWhitespace
	}
	if inRanges(punctRanges, r) {
		c |= classPunct
	}
	return c
}

// class is the character class of r; prepareTables must have run.
func class(r rune) uint8 {
	if r >= 0 && r < 0x10000 {
		return bmpClass[r]
	}
	return slowClass(r)
}

// combiningClass is the canonical combining class of r (0 for starters); prepareTables must
// have run.
func combiningClass(r rune) uint8 {
	if r >= 0 && r < 0x10000 {
		return bmpCCC[r]
	}
	return slowCombiningClass(r)
}

func slowCombiningClass(r rune) uint8 {
	lo, hi := 0, len(cccRanges)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch {
		case cccRanges[m].hi < r:
			lo = m + 1
		case cccRanges[m].lo > r:
			hi = m
		default:
			return cccRanges[m].ccc
		}
	}
	return 0
}

const (
	hangulBase  = 0xAC00
	hangulCount = 11172
)

// decompose appends the canonical decomposition (NFD) of r to dst.
func decompose(dst []rune, r rune) []rune {
	if r < 0xC0 {
		return append(dst, r)
	}
	if r >= hangulBase && r < hangulBase+hangulCount {
		s := r - hangulBase
		dst = append(dst, 0x1100+s/588, 0x1161+(s%588)/28)
		if s%28 != 0 {
			dst = append(dst, 0x11A7+s%28)
		}
		return dst
	}
	if d, ok := decompositions[r]; ok {
		for _, x := range d {
			dst = append(dst, x)
		}
		return dst
	}
	return append(dst, r)
}
