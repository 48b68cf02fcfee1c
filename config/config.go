// Package config loads waclaw's configuration: a JSON5 file in the OpenClaw
// format (the seed's examples load verbatim), merged with the built-in model
// catalog and defaults, validated with file:line errors, and resolved into a
// typed Config that the rest of waclaw reads.
package config

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tailscale/hujson"
)

// API names the wire protocol a provider speaks.
type API string

// The wire protocols waclaw can speak.
const (
	APIOpenAIResponses   API = "openai-responses"
	APIOpenAICompletions API = "openai-completions"
	APIAnthropicMessages API = "anthropic-messages"
)

var knownAPIs = []string{string(APIOpenAIResponses), string(APIOpenAICompletions), string(APIAnthropicMessages)}

// Config is the resolved, validated configuration.
type Config struct {
	Path      string      // file it was loaded from; "" for the built-in defaults
	Primary   *Model      // agents.defaults.model.primary
	Fallbacks []*Model    // agents.defaults.model.fallbacks, in order
	Providers []*Provider // configured providers in file order, then built-ins
	Agent     Agent
	WhatsApp  WhatsApp
	Media     Media // tools.media
	// Warnings are problems that do not stop waclaw from starting, such as
	// an environment variable that a provider's key refers to but is unset.
	Warnings []string

	models  map[string]*Model // by lower-cased ref
	aliases map[string]*Model // by normalised alias
}

// Agent holds agents.defaults settings.
type Agent struct {
	SystemPrompt   string
	Compaction     Compaction
	Tools          []string
	MaxToolSteps   int
	FallbackNotice bool // tell the user when a fallback model answered
}

// Compaction holds agents.defaults.compaction.
type Compaction struct {
	Mode             string // "auto" or "off"
	MaxHistoryTokens int
	Model            *Model // nil: the chat's active model summarises
}

// Provider is one model server.
type Provider struct {
	ID      string
	BaseURL string
	APIKey  string // "" when none is configured or its variable is unset
	API     API
	Headers map[string]string
	Local   bool // runs on this machine or network (baseUrl or "local")
	// BuiltIn reports that the provider comes from the built-in catalog:
	// the built-in's value stands for every field the file leaves out.
	// Under models.mode "replace" no provider the file lists is built-in.
	BuiltIn bool
	// IdleTimeout is how long a stream may be silent before it counts as
	// hung; RequestTimeout caps a whole request; KeepWarm is the idle
	// interval between keep-alive pings (0: off).
	IdleTimeout, RequestTimeout, KeepWarm time.Duration
	Models                                []*Model
	// MissingEnv lists environment variables that the provider's settings
	// in force refer to and that are not set. A built-in's ${VAR} the file
	// replaced (such as an apiKey of its own) is not among them.
	MissingEnv []string
}

// Unavailable returns why the provider cannot be used, or "" when it can.
func (p *Provider) Unavailable() string {
	if len(p.MissingEnv) == 0 {
		return ""
	}
	if len(p.MissingEnv) == 1 {
		return p.MissingEnv[0] + " is not set"
	}
	return strings.Join(p.MissingEnv, ", ") + " are not set"
}

// Model is one model of a provider.
type Model struct {
	Provider      *Provider
	ID            string
	Name          string
	Alias         string // "" when none
	Reasoning     bool
	Input         []string
	Cost          Cost
	ContextWindow int
	MaxTokens     int
	Params        map[string]any // extra request-body fields
}

// Ref is the model's "provider/model" reference.
func (m *Model) Ref() string { return m.Provider.ID + "/" + m.ID }

// Label is the alias when there is one, else the ref.
func (m *Model) Label() string {
	if m.Alias != "" {
		return m.Alias
	}
	return m.Ref()
}

// Cost is the price in US dollars per million tokens.
type Cost struct {
	Input      float64
	Output     float64
	CacheRead  float64
	CacheWrite float64
}

// WhatsApp holds channels.whatsapp.
type WhatsApp struct {
	// DMPolicy is pairing | allowlist | open | disabled. Unset in the file
	// it follows SelfChatMode: allowlist on a personal number (strangers
	// see no sign of the bot), pairing on a dedicated bot number.
	DMPolicy string
	// DMPolicySet reports that the file set dmPolicy (else it is the
	// default for the mode, and config check says so).
	DMPolicySet    bool
	AllowFrom      []string // E.164 numbers, or "*"
	Admins         []string // E.164 numbers
	GroupPolicy    string   // allowlist | open | disabled
	Groups         map[string]Group
	GroupAllowFrom []string // E.164 numbers, or "*"
	TextChunkLimit int
	// StreamReplies sends a long answer in parts while the model writes
	// it (at paragraph, else sentence, boundaries), rather than all at
	// once at the end. On by default.
	StreamReplies    bool
	SendReadReceipts bool
	SelfChatMode     bool
	RateLimit        RateLimit
	StaleAfter       time.Duration // pending messages older than this are skipped
	// MaxMessageChars caps an incoming message (with its quoted text and
	// caption): a longer one is never sent to a model; the sender is told.
	MaxMessageChars int
	// InboxRetention is how long finished inbox rows (and their outbox
	// copies) are kept before they are pruned.
	InboxRetention time.Duration
	// RejectCalls rejects incoming WhatsApp calls (default on a bot number,
	// off on a personal one, where the owner takes their own calls), and
	// CallReply is the text sent to a caller the bot answers ("" for none).
	RejectCalls bool
	CallReply   string
}

// Group is the setting for one group id (or "*").
type Group struct {
	RequireMention bool
}

// RateLimit is the per-sender and outbound message budget.
type RateLimit struct {
	PerMinute, Burst                 int // per sender
	OutboundPerMinute, OutboundBurst int // all replies together
}

// Load reads and resolves the config file at path. An empty path means no
// file: the built-in defaults. A missing file is ErrNotFound; a file that
// cannot be used is ErrInvalid, with every problem listed.
func Load(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &notFoundError{path: path}
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, src, os.LookupEnv)
}

// Default returns the configuration used when there is no file: the seed's
// recommended LM Studio + MiniMax M2.1 setup plus the built-in catalog.
func Default() *Config {
	cfg, err := Parse("", []byte("{}"), os.LookupEnv)
	if err != nil {
		panic("config: built-in defaults are invalid: " + err.Error()) // a programming error
	}
	return cfg
}

// Parse resolves config text; name is used in error messages, lookup reads
// environment variables.
func Parse(name string, src []byte, lookup func(string) (string, bool)) (*Config, error) {
	rewritten, offs := json5ToJWCC(src)
	d := newDecoder(name, src, offs, lookup)
	root, err := hujson.Parse(rewritten)
	if err != nil {
		return nil, Errors{d.syntaxError(err, rewritten)}
	}
	var f fileConfig
	d.decode(&root, "", reflectValue(&f))
	// Resolve even after decode errors so that one run reports every
	// problem; values that failed to decode are simply left unset.
	cfg := d.resolve(&f)
	if len(d.errs) > 0 {
		// File order; problems with no place in the file last. Within a
		// line, decode errors (recorded first) stay ahead of the
		// follow-on problems they cause.
		slices.SortStableFunc(d.errs, func(a, b *Error) int {
			la, lb := a.Line, b.Line
			if la == 0 {
				la = math.MaxInt
			}
			if lb == 0 {
				lb = math.MaxInt
			}
			return cmp.Compare(la, lb)
		})
		return nil, d.errs
	}
	cfg.Path = name
	return cfg, nil
}

var (
	hujsonPos   = regexp.MustCompile(`^hujson: line (\d+), column (\d+): (.*)$`)
	invalidChar = regexp.MustCompile(`^invalid character \S+`)
)

// syntaxError turns a hujson parse error (positions in the rewritten text)
// into an Error at the same place in the original text.
func (d *decoder) syntaxError(err error, rewritten []byte) *Error {
	msg := err.Error()
	m := hujsonPos.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: d.file, Msg: "malformed JSON5: " + msg}
	}
	var line, col int
	fmt.Sscan(m[1], &line)
	fmt.Sscan(m[2], &col)
	off := 0
	for l := 1; l < line && off < len(rewritten); l++ {
		i := strings.IndexByte(string(rewritten[off:]), '\n')
		if i < 0 {
			break
		}
		off += i + 1
	}
	off = min(off+col-1, len(rewritten))
	orig := d.offs.original(off)
	line, col = d.lineCol(orig)
	detail := m[3]
	if strings.HasPrefix(detail, "invalid character") && orig < len(d.orig) {
		// The rewritten text may have a quote where the file has a bare
		// key: name the character the user actually wrote.
		r, _ := utf8.DecodeRune(d.orig[orig:])
		detail = invalidChar.ReplaceAllLiteralString(detail, fmt.Sprintf("unexpected %q", r))
	}
	return &Error{File: d.file, Line: line, Column: col, Msg: "malformed JSON5: " + detail + " (check for a missing comma, quote or bracket just before here)"}
}
