package agent

import (
	"encoding/base64"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
)

// How each API is shown a user message's pictures. A message without
// pictures keeps its plain string content, so text-only requests are the
// same bytes as before pictures existed (and a local server's cached
// prefix of them stays valid).

// dataURL is the picture inline, as both OpenAI APIs take it:
// "data:image/jpeg;base64,...".
func dataURL(img Image) string {
	return "data:" + img.MIME + ";base64," + base64.StdEncoding.EncodeToString(img.Data)
}

// responsesContent is a Responses message's content parts: the text
// (unless empty), then each picture as input_image with detail "auto".
func responsesContent(it Item) responses.ResponseInputMessageContentListParam {
	var parts responses.ResponseInputMessageContentListParam
	if it.Text != "" {
		parts = append(parts, responses.ResponseInputContentParamOfInputText(it.Text))
	}
	for _, img := range it.Images {
		parts = append(parts, responses.ResponseInputContentUnionParam{OfInputImage: &responses.ResponseInputImageParam{
			Detail:   responses.ResponseInputImageDetailAuto,
			ImageURL: openai.String(dataURL(img)),
		}})
	}
	return parts
}

// completionsContent is a Chat Completions user message's content array:
// a text part (unless empty), then an image_url part per picture.
func completionsContent(it Item) []openai.ChatCompletionContentPartUnionParam {
	var parts []openai.ChatCompletionContentPartUnionParam
	if it.Text != "" {
		parts = append(parts, openai.TextContentPart(it.Text))
	}
	for _, img := range it.Images {
		parts = append(parts, openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: dataURL(img)}))
	}
	return parts
}

// anthropicContent is an Anthropic user message's blocks: the pictures
// first, as base64 image blocks (Anthropic's advice: images before the
// text about them), then the text (unless empty: the API refuses empty
// text blocks).
func anthropicContent(it Item) []anthropic.ContentBlockParamUnion {
	var blocks []anthropic.ContentBlockParamUnion
	for _, img := range it.Images {
		blocks = append(blocks, anthropic.NewImageBlockBase64(img.MIME, base64.StdEncoding.EncodeToString(img.Data)))
	}
	if it.Text != "" {
		blocks = append(blocks, anthropic.NewTextBlock(it.Text))
	}
	return blocks
}
