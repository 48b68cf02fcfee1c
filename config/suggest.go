// Did-you-mean suggestions: the nearest of a set of names by edit distance.

package config

import (
	"cmp"
	"slices"
	"strings"
)

// Closest returns the candidate nearest to s (ignoring case) when it is near
// enough to be a likely typo, or "". Commands use it for "did you mean".
func Closest(s string, candidates []string) string {
	best, bestDist := "", 0
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := 2
	if len(s) <= 3 {
		limit = 1
	}
	if best == "" || bestDist > limit {
		return ""
	}
	return best
}

// ByCloseness returns candidates ordered by how close each is to s,
// ignoring case, closest first (doctor lists a server's model ids so).
func ByCloseness(s string, candidates []string) []string {
	out := slices.Clone(candidates)
	want := strings.ToLower(s)
	slices.SortStableFunc(out, func(a, b string) int {
		return cmp.Compare(editDistance(want, strings.ToLower(a)), editDistance(want, strings.ToLower(b)))
	})
	return out
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
