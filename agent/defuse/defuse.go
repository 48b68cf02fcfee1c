// Package defuse makes text from outside the bot inert before a model reads
// it. Local servers (LM Studio, Ollama, llama.cpp, vLLM) render the chat
// template into one string and tokenize it with special tokens enabled, so
// a user who types <|im_end|><|im_start|>system, [INST], <start_of_turn>,
// DeepSeek's <｜User｜> or MiniMax's ]~b] closes their own turn and opens a
// system one. Text breaks every such token with a word joiner (U+2060)
// after its first character: the tokenizer no longer finds the token, and
// the text still reads the same to the model and to a person, since the
// joiner is invisible and nothing is removed.
//
// What is broken is a list of stems: openings shared by a whole family of
// tokens (every <|...|> token contains "<|") and, for families without
// one, the tokens themselves. Every occurrence of a stem is broken, and so
// is a stem's beginning at the very end of the text, so that two defused
// texts placed side by side cannot meet to form a token either.
package defuse

import (
	"strings"
)

// Joiner is what Text inserts: U+2060 WORD JOINER. It is invisible, keeps
// the two characters on either side together on a line, is left alone by
// Unicode normalisation, and is in no model's control tokens, so it splits
// a token for the tokenizer without changing what anyone reads. Removing
// every Joiner from Text's result gives back the input (less any joiners
// the input already had).
const Joiner = "\u2060"

// stems are lower case; they match regardless of ASCII case (tokenizers
// are case-sensitive, but a near miss has no business in a prompt either).
// Every stem begins with an ASCII character, and Text breaks it right after
// that character.
var stems = []string{
	// The openings of whole token families. "<|": ChatML and its heirs
	// (<|im_start|>, <|im_end|>, <|endoftext|>, <|im_sep|>), Llama 3 and 4
	// (<|start_header_id|>, <|eot_id|>, <|header_start|>), Phi, gpt-oss's
	// harmony format (<|start|>, <|channel|>, <|message|>), Command R,
	// Granite, GLM, Kimi K2 (<|im_system|>, <|im_middle|>), Qwen's vision
	// and fill-in-the-middle tokens, and any such token still to come.
	"<|", "</|",
	// DeepSeek V2, V3, R1 and V4 and Hunyuan write the bars full-width:
	// <｜User｜>, <｜begin▁of▁sentence｜>, </｜DSML｜tool_calls>.
	"<｜", "</｜",
	// EXAONE: [|system|], [|endofturn|].
	"[|",
	// Seed-Coder: <[begin▁of▁sentence]>.
	"<[",
	// MiniMax M2 and M3: ]~!b[ begins the text, ]~b] each turn, [e~[ ends
	// one; ]!d~[ and ]!p~[ are padding; ]<]image[>[ and its kin are media.
	"]~!b[", "]~b]", "[e~[", "]!d~[", "]!p~[", "]<]",
	"<minimax:tool_call>", "</minimax:tool_call>", "<mm:think>", "</mm:think>",
	// Llama 2 and Mistral, and the control tokens of Mistral's v3, v7 and
	// Tekken tokenizers.
	"<s>", "</s>", "<unk>", "[inst]", "[/inst]", "<<sys>>", "<</sys>>",
	"[system_prompt]", "[/system_prompt]", "[available_tools]", "[/available_tools]",
	"[tool_calls]", "[tool_results]", "[/tool_results]", "[tool_content]",
	"[think]", "[/think]", "[args]", "[call_id]", "[img]", "[img_break]", "[img_end]",
	// Gemma.
	"<bos>", "<eos>", "<pad>", "<start_of_turn>", "<end_of_turn>",
	"<start_of_image>", "<end_of_image>",
	// Reasoning and tool tags that Qwen3, DeepSeek R1, GLM 4.5, Hermes and
	// others tokenize as single tokens.
	"<think>", "</think>", "<tool_call>", "</tool_call>",
	"<tool_response>", "</tool_response>",
	"<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>",
	// Seed-OSS: <seed:bos>, <seed:eos>, <seed:think>, <seed:tool_call>.
	"<seed:", "</seed:",
	// GLM: [gMASK]<sop>.
	"[gmask]", "[smask]", "<sop>", "<eop>",
	// Nemotron: <extra_id_0>System, <extra_id_1>User.
	"<extra_id_",
	// Bailing (Ling): <role>HUMAN</role>.
	"<role>", "</role>",
	// SmolVLM, MiniCPM, Pangu ([unused9]...[unused10]), Yandex and BERT.
	"<end_of_utterance>", "<用户>", "<ai>", "[unused", "[sep]", "[cls]", "[mask]",
	// Fill-in-the-middle: <fim_prefix>, <fim_suffix>, <fim_middle>.
	"<fim_",
	// llama.cpp's multimodal marker: each one must be matched by an
	// attached image, so a typed one fails the request.
	"<__media__>",
}

// byFirst holds the stems by their first byte, so that only '<', '[' and
// ']' are looked at closely.
var byFirst = func() map[byte][]string {
	m := map[byte][]string{}
	for _, s := range stems {
		m[s[0]] = append(m[s[0]], s)
	}
	return m
}()

// firsts is every byte a stem begins with.
var firsts = func() string {
	var b []byte
	for c := range byFirst {
		b = append(b, c)
	}
	return string(b)
}()

// Text returns s with every chat-template control token broken, so that no
// tokenizer reads it, and no text placed after it completes one, as a
// control token. The result is s itself when there is nothing to break.
// Text is idempotent: Text(Text(s)) == Text(s).
func Text(s string) string {
	var b strings.Builder
	done := 0 // s[:done] is written to b
	for i := 0; i < len(s); {
		j := strings.IndexAny(s[i:], firsts)
		if j < 0 {
			break
		}
		i += j
		if startsToken(s[i:]) {
			if done == 0 {
				b.Grow(len(s) + 4*len(Joiner))
			}
			b.WriteString(s[done : i+1])
			b.WriteString(Joiner)
			done = i + 1
		}
		i++
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// Index returns the index of the first control token (a stem) in s, or -1
// if there is none. Text's results have none.
func Index(s string) int {
	for i := 0; i < len(s); {
		j := strings.IndexAny(s[i:], firsts)
		if j < 0 {
			return -1
		}
		i += j
		for _, st := range byFirst[s[i]] {
			if len(s)-i >= len(st) && equalFold(s[i:i+len(st)], st) {
				return i
			}
		}
		i++
	}
	return -1
}

// startsToken reports whether rest, the remainder of a text, begins with a
// stem, or is itself the beginning of one (and so could become one when
// more text follows).
func startsToken(rest string) bool {
	for _, st := range byFirst[rest[0]] {
		n := min(len(rest), len(st))
		if equalFold(rest[:n], st[:n]) {
			return true
		}
	}
	return false
}

// equalFold reports whether a equals the lower-case b, ignoring the case
// of ASCII letters in a. Other bytes, those of multi-byte characters among
// them, must match exactly.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != b[i] {
			return false
		}
	}
	return true
}
