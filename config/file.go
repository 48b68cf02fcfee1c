package config

// The file* types mirror the config file's keys one to one. Pointers mark
// values whose absence matters (so that a built-in or default stays in force);
// the decoder rejects any key not listed here.

type fileConfig struct {
	Agents   *fileAgents   `json:"agents"`
	Models   *fileModels   `json:"models"`
	Channels *fileChannels `json:"channels"`
	Tools    *fileTools    `json:"tools"`
}

type fileAgents struct {
	Defaults *fileAgentDefaults `json:"defaults"`
}

type fileAgentDefaults struct {
	Model          *fileModelChoice          `json:"model"`
	Models         map[string]*fileModelPref `json:"models"`
	SystemPrompt   *string                   `json:"systemPrompt"`
	Compaction     *fileCompaction           `json:"compaction"`
	Tools          []string                  `json:"tools"`
	MaxToolSteps   *int                      `json:"maxToolSteps"`
	FallbackNotice *bool                     `json:"fallbackNotice"`
}

// fileModelChoice is agents.defaults.model: { primary, fallbacks } or, as
// OpenClaw also allows, just the primary's ref as a string.
type fileModelChoice struct {
	Primary   *string  `json:"primary"`
	Fallbacks []string `json:"fallbacks"`
}

func (c *fileModelChoice) setString(s string) string {
	c.Primary = &s
	return "primary"
}

type fileModelPref struct {
	Alias string `json:"alias"`
}

type fileCompaction struct {
	Mode             *string `json:"mode"`
	MaxHistoryTokens *int    `json:"maxHistoryTokens"`
	Model            *string `json:"model"`
}

type fileModels struct {
	Mode      *string                  `json:"mode"`
	Providers map[string]*fileProvider `json:"providers"`
}

type fileProvider struct {
	BaseURL        *string           `json:"baseUrl"`
	APIKey         *string           `json:"apiKey"`
	API            *string           `json:"api"`
	Headers        map[string]string `json:"headers"`
	Local          *bool             `json:"local"`
	IdleTimeout    *Duration         `json:"idleTimeout"`
	RequestTimeout *Duration         `json:"requestTimeout"`
	KeepWarm       *Duration         `json:"keepWarm"`
	Models         []fileModel       `json:"models"`
}

type fileModel struct {
	ID            string         `json:"id"`
	Name          *string        `json:"name"`
	Reasoning     *bool          `json:"reasoning"`
	Input         []string       `json:"input"`
	Cost          *fileCost      `json:"cost"`
	ContextWindow *int           `json:"contextWindow"`
	MaxTokens     *int           `json:"maxTokens"`
	Params        map[string]any `json:"params"`
}

type fileCost struct {
	Input      *float64 `json:"input"`
	Output     *float64 `json:"output"`
	CacheRead  *float64 `json:"cacheRead"`
	CacheWrite *float64 `json:"cacheWrite"`
}

type fileChannels struct {
	WhatsApp *fileWhatsApp `json:"whatsapp"`
}

type fileWhatsApp struct {
	DMPolicy         *string               `json:"dmPolicy"`
	AllowFrom        []string              `json:"allowFrom"`
	Admins           []string              `json:"admins"`
	GroupPolicy      *string               `json:"groupPolicy"`
	Groups           map[string]*fileGroup `json:"groups"`
	GroupAllowFrom   []string              `json:"groupAllowFrom"`
	TextChunkLimit   *int                  `json:"textChunkLimit"`
	StreamReplies    *bool                 `json:"streamReplies"`
	SendReadReceipts *bool                 `json:"sendReadReceipts"`
	SelfChatMode     *bool                 `json:"selfChatMode"`
	RateLimit        *fileRateLimit        `json:"rateLimit"`
	StaleAfter       *Duration             `json:"staleAfter"`
	MaxMessageChars  *int                  `json:"maxMessageChars"`
	InboxRetention   *Duration             `json:"inboxRetention"`
	RejectCalls      *bool                 `json:"rejectCalls"`
	CallReply        *string               `json:"callReply"`
}

type fileGroup struct {
	RequireMention *bool `json:"requireMention"`
}

type fileRateLimit struct {
	PerMinute         *int `json:"perMinute"`
	Burst             *int `json:"burst"`
	OutboundPerMinute *int `json:"outboundPerMinute"`
	OutboundBurst     *int `json:"outboundBurst"`
}
