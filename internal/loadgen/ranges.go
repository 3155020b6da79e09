package loadgen

import (
	"fmt"
	"slices"
	"sort"
)

// Ranges is a set of sequence numbers as sorted, disjoint, non-adjacent
// closed intervals [first, last]. In JSON it is [[0,99],[101,500]], so the
// acknowledged seqs of a long run stay a few pairs: a gap appears only where
// a record was not acknowledged.
type Ranges [][2]int64

// CompressSeqs returns the seqs (in any order, repeats allowed) as Ranges.
func CompressSeqs(seqs []int64) Ranges {
	sorted := slices.Clone(seqs)
	slices.Sort(sorted)
	out := Ranges{}
	for _, s := range sorted {
		if n := len(out); n > 0 && s <= out[n-1][1]+1 {
			out[n-1][1] = max(out[n-1][1], s)
			continue
		}
		out = append(out, [2]int64{s, s})
	}
	return out
}

// Count is the number of seqs in r.
func (r Ranges) Count() int64 {
	var n int64
	for _, rg := range r {
		n += rg[1] - rg[0] + 1
	}
	return n
}

// Contains reports whether seq is in r.
func (r Ranges) Contains(seq int64) bool {
	i := sort.Search(len(r), func(i int) bool { return r[i][1] >= seq })
	return i < len(r) && r[i][0] <= seq
}

// Each calls fn for every seq in r, in ascending order.
func (r Ranges) Each(fn func(seq int64)) {
	for _, rg := range r {
		for s := rg[0]; s <= rg[1]; s++ {
			fn(s)
		}
	}
}

// Validate checks that r is in the form CompressSeqs returns (input read from
// a report may have been edited by hand): non-negative, first <= last,
// ascending and neither overlapping nor adjacent.
func (r Ranges) Validate() error {
	for i, rg := range r {
		if rg[0] < 0 || rg[0] > rg[1] {
			return fmt.Errorf("range %d %v: want 0 <= first <= last", i, rg)
		}
		if i > 0 && rg[0] <= r[i-1][1]+1 {
			return fmt.Errorf("range %d %v: overlaps or touches range %d %v: ranges must be ascending and "+
				"separated by at least one missing seq", i, rg, i-1, r[i-1])
		}
	}
	return nil
}

// SeqSet is a growable bitset of non-negative seqs: a producer's acknowledged
// seqs are dense, so a bit each is the cheapest record of them.
type SeqSet struct {
	words []uint64
	n     int64
}

// Add puts seq in the set; a negative seq panics.
func (s *SeqSet) Add(seq int64) {
	if seq < 0 {
		panic(fmt.Sprintf("loadgen: SeqSet.Add(%d): seqs are non-negative", seq))
	}
	w := int(seq / 64)
	if w >= len(s.words) {
		s.words = append(s.words, make([]uint64, w+1-len(s.words))...)
	}
	bit := uint64(1) << (seq % 64)
	if s.words[w]&bit == 0 {
		s.words[w] |= bit
		s.n++
	}
}

// Has reports whether seq is in the set.
func (s *SeqSet) Has(seq int64) bool {
	if seq < 0 || int(seq/64) >= len(s.words) {
		return false
	}
	return s.words[seq/64]&(uint64(1)<<(seq%64)) != 0
}

// Len is the number of seqs in the set.
func (s *SeqSet) Len() int64 { return s.n }

// Ranges returns the set as Ranges.
func (s *SeqSet) Ranges() Ranges {
	out := Ranges{}
	open := false
	for w, word := range s.words {
		switch {
		case word == 0 && !open:
			continue // the whole word is inside a gap
		case word == ^uint64(0) && open:
			out[len(out)-1][1] = int64(w)*64 + 63 // the whole word extends the open range
			continue
		}
		for b := range 64 {
			seq := int64(w)*64 + int64(b)
			in := word&(uint64(1)<<b) != 0
			switch {
			case in && !open:
				out = append(out, [2]int64{seq, seq})
				open = true
			case in:
				out[len(out)-1][1] = seq
			default:
				open = false
			}
		}
	}
	return out
}
