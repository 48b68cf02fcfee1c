package compaction

import (
	"sync"
	"unicode/utf8"
)

// Estimate guesses how many tokens a text is: about four bytes of ASCII per
// token, and one token per other character (CJK text, emoji). It errs high,
// which keeps contexts inside their budget.
func Estimate(s string) int {
	ascii, other := 0, 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			ascii++
			i++
			continue
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		other++
		i += n
	}
	n := (ascii+3)/4 + other
	if s != "" && n == 0 {
		n = 1
	}
	return n
}

// calibration scales estimates per model by what its server reported:
// tokenizers differ, and a budget should hold in the model's own tokens.
type calibration struct {
	mu     sync.Mutex
	factor map[string]float64 // by model ref; 1 when unknown
}

func (c *calibration) get(ref string) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.factor[ref]; ok {
		return f
	}
	return 1
}

// learn folds in one request: the server counted reported tokens for what
// was estimated at estimated.
func (c *calibration) learn(ref string, estimated, reported int) {
	if estimated <= 0 || reported <= 0 {
		return
	}
	ratio := min(max(float64(reported)/float64(estimated), 0.5), 4)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.factor == nil {
		c.factor = map[string]float64{}
	}
	old, ok := c.factor[ref]
	if !ok {
		old = 1
	}
	c.factor[ref] = 0.7*old + 0.3*ratio
}
