package diagnose

// A two-byte prefilter for the substring checks: each check's text gets
// the two rarest-looking byte pairs it holds; a line is searched for the
// text only when both pairs occur in it. One pass over the line sets bits
// in an 8 KiB table (L1-resident), so 70-odd substrings cost about one
// scan instead of 70.

type gramSet struct {
	bits [1 << 16 / 64]uint64
	set  []uint16
}

func (g *gramSet) load(s string) {
	for _, k := range g.set {
		g.bits[k>>6] = 0
	}
	g.set = g.set[:0]
	for i := 0; i+1 < len(s); i++ {
		k := uint16(s[i])<<8 | uint16(s[i+1])
		if g.bits[k>>6]&(1<<(k&63)) == 0 {
			g.bits[k>>6] |= 1 << (k & 63)
			g.set = append(g.set, k)
		}
	}
}

func (g *gramSet) has(k uint16) bool { return g.bits[k>>6]&(1<<(k&63)) != 0 }

// byteWeight guesses how rare a byte is in ConfigMgr log text: lower-case
// letters and spaces are everywhere, capitals, digits and punctuation less so.
func byteWeight(c byte) int {
	switch {
	case c >= 'a' && c <= 'z', c == ' ':
		return 1
	case c >= 'A' && c <= 'Z':
		return 3
	case c >= '0' && c <= '9':
		return 3
	case c == '_' || c == '[' || c == ']' || c == '(' || c == ')' || c == '?' || c == '\'':
		return 5
	}
	return 2
}

// keyGrams returns up to two distinct byte pairs of s with the highest
// rarity guess; ok is false for texts shorter than 2 bytes.
func keyGrams(s string) (a, b uint16, n int) {
	best, second := -1, -1
	var ka, kb uint16
	for i := 0; i+1 < len(s); i++ {
		k := uint16(s[i])<<8 | uint16(s[i+1])
		w := byteWeight(s[i]) * byteWeight(s[i+1])
		switch {
		case w > best:
			if best >= 0 && k != ka {
				second, kb = best, ka
			}
			best, ka = w, k
		case w > second && k != ka:
			second, kb = w, k
		}
	}
	switch {
	case best < 0:
		return 0, 0, 0
	case second < 0:
		return ka, 0, 1
	}
	return ka, kb, 2
}
