package transcribe

import "testing"

func TestClean(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{" What is the capital of France?\n", "What is the capital of France?"},
		{" What is\n the capital  of France?\n", "What is the capital of France?"},
		{"", ""},
		{" [BLANK_AUDIO]\n", ""},
		{"[ Silence ]", ""},
		{"(silence)", ""},
		{"[Music] [Music]", ""},
		{"[inaudible]", ""},
		{"[no speech]", ""},
		{"(wind blowing) [MUSIC PLAYING]", ""},
		{"♪ ♪", ""},
		{"...", ""},
		{"(laughs) Yes, Paris.", "(laughs) Yes, Paris."},
		{"[Music] Bonjour", "[Music] Bonjour"},
		{"[unclosed Paris", "[unclosed Paris"},
		{"42", "42"},
	} {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestCommandText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"\n[00:00:00.000 --> 00:00:02.000]   What is the capital\n[00:00:02.000 --> 00:00:03.500]   of France?\n", "What is the capital of France?"},
		{"[01:02:03,456 --> 01:02:05,000]  Hours in, with commas.\n", "Hours in, with commas."},
		{" Plain text, no timestamps.\n", "Plain text, no timestamps."},
		{"[BLANK_AUDIO]\n", "[BLANK_AUDIO]"},
	} {
		if got := commandText(tt.in); got != tt.want {
			t.Errorf("commandText(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}`, "Incorrect API key provided"},
		{`{"error":"no 'file' field in the request"}`, "no 'file' field in the request"},
		{`{"detail":"Model 'x' is not installed"}`, "Model 'x' is not installed"},
		{`{"detail":[{"loc":["body","file"],"msg":"field required"}]}`, `[{"loc":["body","file"],"msg":"field required"}]`},
		{`{"message":"model not found"}`, "model not found"},
		{"<html>\n<body>502 Bad Gateway</body>\n</html>\n", "<html> <body>502 Bad Gateway</body> </html>"},
		{"", ""},
	} {
		if got := errorMessage([]byte(tt.in)); got != tt.want {
			t.Errorf("errorMessage(%s) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestExtension(t *testing.T) {
	for _, tt := range []struct {
		c    Clip
		want string
	}{
		{Clip{MIME: "audio/ogg; codecs=opus"}, ".ogg"},
		{Clip{MIME: "audio/mpeg"}, ".mp3"},
		{Clip{MIME: "audio/mp4"}, ".m4a"},
		{Clip{MIME: "audio/x-wav"}, ".wav"},
		{Clip{MIME: ""}, ".bin"},
	} {
		if got := extension(tt.c); got != tt.want {
			t.Errorf("extension(%q) = %q; want %q", tt.c.MIME, got, tt.want)
		}
	}
}
