package doctor

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"waclaw/agent"
	"waclaw/config"
)

// serverKind identifies the server behind a local provider from the
// endpoints it answers; when it answers none, a guess from the port each
// server uses by default, or the provider's name.
func (d *doctor) serverKind(ctx context.Context, p *config.Provider, modelID string) (agent.ServerKind, agent.ServerInfo) {
	if !p.Local || p.API == config.APIAnthropicMessages {
		return agent.ServerUnknown, agent.ServerInfo{}
	}
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	info, err := agent.Probe(ctx, d.HTTPClient, p, modelID)
	if err == nil && info.Kind != agent.ServerUnknown {
		return info.Kind, info
	}
	return guessKind(p), info
}

// guessKind is the server a down provider probably is, from its default
// port (Ollama 11434, LM Studio 1234, llama-server 8080, vLLM 8000) or its
// name.
func guessKind(p *config.Provider) agent.ServerKind {
	port := ""
	if u, err := url.Parse(p.BaseURL); err == nil {
		port = u.Port()
	}
	id := strings.ToLower(p.ID)
	switch {
	case port == "11434" || strings.Contains(id, "ollama"):
		return agent.ServerOllama
	case port == "1234" || strings.Contains(id, "lmstudio") || strings.Contains(id, "lm-studio"):
		return agent.ServerLMStudio
	case port == "8080" || strings.Contains(id, "llama"):
		return agent.ServerLlamaCpp
	case port == "8000" || strings.Contains(id, "vllm"):
		return agent.ServerVLLM
	}
	return agent.ServerUnknown
}

// startAdvice is how to start the server of kind k behind p.
func startAdvice(p *config.Provider, k agent.ServerKind, modelID string) string {
	if !p.Local {
		return fmt.Sprintf("check the network, or models.providers.%s.baseUrl", p.ID)
	}
	port := "PORT"
	if u, err := url.Parse(p.BaseURL); err == nil && u.Port() != "" {
		port = u.Port()
	}
	fix := fmt.Sprintf(", or fix models.providers.%s.baseUrl", p.ID)
	switch k {
	case agent.ServerOllama:
		return "start Ollama (ollama serve)" + fix
	case agent.ServerLMStudio:
		return "start LM Studio's server (lms server start)" + fix
	case agent.ServerLlamaCpp:
		return fmt.Sprintf("start llama-server (llama-server -m %s.gguf --port %s)", modelID, port) + fix
	case agent.ServerVLLM:
		return fmt.Sprintf("start vLLM (vllm serve %s --port %s)", modelID, port) + fix
	}
	return "start the model server (ollama serve, lms server start, llama-server -m MODEL.gguf or vllm serve MODEL)" + fix
}

// getModelAdvice is how to make the server of kind k serve modelID.
func getModelAdvice(k agent.ServerKind, modelID string) string {
	switch k {
	case agent.ServerOllama:
		return "ollama pull " + strings.TrimSuffix(modelID, ":latest")
	case agent.ServerLMStudio:
		return "lms get " + modelID + ", then lms load " + modelID
	case agent.ServerLlamaCpp:
		return "restart llama-server with -m and the model's .gguf file"
	case agent.ServerVLLM:
		return "restart vLLM with vllm serve " + modelID
	}
	return "load " + modelID + " on the server"
}

// loadFailedAdvice is what to do when the server could not load the
// model, or its runner crashed.
func loadFailedAdvice(k agent.ServerKind, modelID string) string {
	const fit = "the model may not fit in memory: try a smaller quantization or a shorter context, "
	switch k {
	case agent.ServerOllama:
		return fit + "and read ollama's log (journalctl -u ollama); ollama pull " + modelID + " again if the file is damaged"
	case agent.ServerLMStudio:
		return fit + "and read LM Studio's log (lms log stream) while loading it (lms load " + modelID + ")"
	case agent.ServerLlamaCpp:
		return fit + "and read llama-server's output"
	case agent.ServerVLLM:
		return fit + "(vllm serve --gpu-memory-utilization, --max-model-len) and read vLLM's output"
	}
	return fit + "and read the server's log"
}

// serverPath matches a file path in a server's message: two or more
// absolute path segments not part of a URL.
var serverPath = regexp.MustCompile(`(^|[\s:=(\["'])(/[^\s/:"')\]]+){2,}/?`)

// oneLine shows a server's message, which can span lines (a Go panic from
// Ollama's runner), on one line, without the server's file paths.
func oneLine(s string) string {
	s = serverPath.ReplaceAllString(s, "$1")
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimRight(strings.TrimSpace(l), ":")
		l = strings.TrimSpace(l)
		if l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " / ")
}

// firstModel is the id of p's first model, for a start command.
func firstModel(p *config.Provider) string {
	if len(p.Models) > 0 {
		return p.Models[0].ID
	}
	return "MODEL"
}
