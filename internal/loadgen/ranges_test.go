package loadgen

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompressSeqs(t *testing.T) {
	tests := []struct {
		name string
		seqs []int64
		want Ranges
	}{
		{"empty", nil, Ranges{}},
		{"one", []int64{7}, Ranges{{7, 7}}},
		{"contiguous", []int64{0, 1, 2, 3}, Ranges{{0, 3}}},
		{"one gap", []int64{0, 1, 2, 4, 5}, Ranges{{0, 2}, {4, 5}}},
		{"unsorted with repeats", []int64{5, 1, 2, 1, 9, 4, 5}, Ranges{{1, 2}, {4, 5}, {9, 9}}},
		{"isolated points", []int64{0, 2, 4}, Ranges{{0, 0}, {2, 2}, {4, 4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CompressSeqs(tt.seqs)
			assert.Equal(t, tt.want, got)
			assert.NoError(t, got.Validate())
		})
	}
}

func TestRangesJSON(t *testing.T) {
	b, err := json.Marshal(Ranges{{0, 99}, {101, 500}})
	require.NoError(t, err)
	assert.Equal(t, `[[0,99],[101,500]]`, string(b))
	b, err = json.Marshal(Ranges{})
	require.NoError(t, err)
	assert.Equal(t, `[]`, string(b), "no acks is an empty list, not null")
}

func TestRangesCountContainsEach(t *testing.T) {
	r := Ranges{{0, 2}, {5, 5}, {8, 10}}
	assert.Equal(t, int64(7), r.Count())
	var seen []int64
	r.Each(func(s int64) { seen = append(seen, s) })
	assert.Equal(t, []int64{0, 1, 2, 5, 8, 9, 10}, seen)
	for s := int64(-1); s <= 11; s++ {
		want := s >= 0 && s <= 2 || s == 5 || s >= 8 && s <= 10
		assert.Equal(t, want, r.Contains(s), "Contains(%d)", s)
	}
	assert.False(t, Ranges{}.Contains(0))
}

func TestRangesValidate(t *testing.T) {
	tests := []struct {
		r    Ranges
		want string
	}{
		{Ranges{{0, 3}, {5, 9}}, ""},
		{Ranges{{-1, 3}}, "range 0 [-1 3]: want 0 <= first <= last"},
		{Ranges{{4, 3}}, "range 0 [4 3]: want 0 <= first <= last"},
		{Ranges{{0, 3}, {4, 9}}, "range 1 [4 9]: overlaps or touches range 0 [0 3]: ranges must be ascending and separated by at least one missing seq"},
		{Ranges{{5, 9}, {0, 3}}, "range 1 [0 3]: overlaps or touches range 0 [5 9]: ranges must be ascending and separated by at least one missing seq"},
	}
	for _, tt := range tests {
		err := tt.r.Validate()
		if tt.want == "" {
			assert.NoError(t, err, "%v", tt.r)
		} else {
			assert.EqualError(t, err, tt.want, "%v", tt.r)
		}
	}
}

// SeqSet.Ranges skips whole words inside gaps and ranges; this guards the
// boundaries at word edges (63/64, 127/128) against the bit-by-bit answer.
func TestSeqSetRangesMatchesCompress(t *testing.T) {
	sets := [][]int64{
		{},
		{0},
		{63},
		{63, 64},
		{0, 1, 2, 63, 64, 65, 200},
		rangeSeqs(0, 127), // two full words
		rangeSeqs(1, 300), // full words inside a range that starts mid-word
		append(rangeSeqs(0, 63), rangeSeqs(65, 191)...), // a one-seq gap just after a full word
		append(rangeSeqs(10, 20), 1000),
	}
	for _, seqs := range sets {
		var s SeqSet
		for _, q := range seqs {
			s.Add(q)
			s.Add(q) // repeats count once
		}
		assert.Equal(t, CompressSeqs(seqs), s.Ranges(), "%v", seqs)
		assert.Equal(t, CompressSeqs(seqs).Count(), s.Len())
		for _, q := range seqs {
			assert.True(t, s.Has(q))
		}
	}
	var s SeqSet
	s.Add(5)
	assert.False(t, s.Has(4))
	assert.False(t, s.Has(-1))
	assert.False(t, s.Has(1<<20))
}

func rangeSeqs(first, last int64) []int64 {
	var out []int64
	for s := first; s <= last; s++ {
		out = append(out, s)
	}
	return out
}
