package rules

import "strings"

// Nearest returns the candidate closest to name, for "did you mean" fixes: the
// smallest edit distance (insertions, deletions, substitutions and swaps of
// neighbours), compared case-insensitively so `minInSyncReplicas` finds
// `minInsyncReplicas`. A candidate counts only within MaxTypoDistance(name)
// edits, so a name that is no typo of any candidate gets no suggestion. Ties
// go to the earlier candidate.
func Nearest(name string, candidates []string) (string, bool) {
	best, bestDist := "", MaxTypoDistance(name)+1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(name), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best, best != ""
}

// MaxTypoDistance is how many edits still read as a typo of a name: two, or a
// third of a long name's length.
func MaxTypoDistance(name string) int {
	if n := len(name) / 3; n > 2 {
		return n
	}
	return 2
}

// editDistance is the optimal-string-alignment distance between a and b:
// Levenshtein plus the swap of two neighbouring characters as one edit
// (`szie` is one edit from `size`).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// d[i][j] is the distance between ra[:i] and rb[:j].
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
