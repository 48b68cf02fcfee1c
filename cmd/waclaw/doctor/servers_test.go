package doctor

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"waclaw/agent/agenttest"
)

// kindConfig is a config whose primary is qwen3 on a local server at url.
func kindConfig(t *testing.T, id, url string) string {
	return writeConfig(t, `{
  agents: { defaults: { model: { primary: "`+id+`/qwen3" } } },
  models: { providers: { `+id+`: { baseUrl: "`+url+`", api: "openai-completions",
    models: [{ id: "qwen3", contextWindow: 32768, maxTokens: 1024 }] } } },
}`)
}

// TestAdvicePerServer: the start command, the way to get a model and the
// context line name the server's own tools.
func TestAdvicePerServer(t *testing.T) {
	tests := []struct {
		name, check, detail, advice string
		setup                       func(t *testing.T) string
	}{
		{
			name: "ollama down", check: "ollama: server", detail: "connection refused",
			advice: "start Ollama (ollama serve), or fix models.providers.ollama.baseUrl",
			setup:  func(t *testing.T) string { return kindConfig(t, "ollama", agenttest.RefusedURL(t)) },
		},
		{
			name: "ollama model not pulled", check: "ollama/qwen3: listed", detail: "the server lists no models",
			advice: "ollama pull qwen3",
			setup: func(t *testing.T) string {
				return kindConfig(t, "ollama", agenttest.New(t, agenttest.Ollama).URL)
			},
		},
		{
			name: "ollama context", check: "ollama/qwen3: context",
			detail: "ollama serves qwen3 with 4096 tokens of context; contextWindow says 32768: waclaw keeps conversations within 4096 (the model allows up to 40960)",
			advice: "set num_ctx (PARAMETER num_ctx 32768 in a Modelfile) or OLLAMA_CONTEXT_LENGTH=32768 for ollama serve, or set contextWindow of ollama/qwen3 to 4096",
			setup: func(t *testing.T) string {
				return kindConfig(t, "ollama", agenttest.New(t, agenttest.Ollama, "qwen3").URL)
			},
		},
		{
			name: "llama.cpp context", check: "local/qwen3: context",
			detail: "llama.cpp serves qwen3 with 8192 tokens of context; contextWindow says 32768",
			advice: "start llama-server with -c 32768 (per slot: -c is shared among --parallel slots), or set contextWindow of local/qwen3 to 8192",
			setup: func(t *testing.T) string {
				return kindConfig(t, "local", agenttest.New(t, agenttest.LlamaCpp, "qwen3").URL)
			},
		},
		{
			name: "vllm context", check: "local/qwen3: context",
			detail: "vLLM serves qwen3 with 16384 tokens of context; contextWindow says 32768",
			advice: "start vllm serve with --max-model-len 32768, or set contextWindow of local/qwen3 to 16384",
			setup: func(t *testing.T) string {
				s := agenttest.New(t, agenttest.VLLM, "qwen3")
				s.SetContextSize(16384)
				return kindConfig(t, "local", s.URL)
			},
		},
		{
			name: "ollama load failed", check: "ollama/qwen3: warm-up",
			detail: "failed to load (HTTP 500): llama runner process has terminated: exit status 2 / panic: unable to load model",
			advice: "the model may not fit in memory: try a smaller quantization or a shorter context, and read ollama's log (journalctl -u ollama); ollama pull qwen3 again if the file is damaged",
			setup: func(t *testing.T) string {
				hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					switch r.URL.Path {
					case "/api/version":
						w.Write([]byte(`{"version":"0.24.0"}`))
					case "/v1/models":
						w.Write([]byte(`{"object":"list","data":[{"id":"qwen3:latest","object":"model"}]}`))
					default:
						w.WriteHeader(http.StatusInternalServerError)
						w.Write([]byte(`{"error":{"message":"llama runner process has terminated: exit status 2\npanic: unable to load model: /usr/share/ollama/.ollama/models/blobs/sha256-6a0746a1ec1a","type":"api_error"}}`))
					}
				}))
				t.Cleanup(hs.Close)
				return kindConfig(t, "ollama", hs.URL+"/v1")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runDoctor(t, tt.setup(t), linkedDataDir(t))
			c := find(t, r, tt.check)
			if !strings.Contains(c.Detail, tt.detail) || c.Advice != tt.advice {
				t.Errorf("%s = %s %q\nadvice %q\nwant detail %q\nadvice %q", tt.check, c.Status, c.Detail, c.Advice, tt.detail, tt.advice)
			}
			if out := screen(r); strings.Contains(out, "/usr/share") || strings.Contains(out, "sha256-") {
				t.Errorf("the screen shows a server path:\n%s", out)
			}
		})
	}
}
