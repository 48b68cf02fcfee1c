// Package markup turns a model's Markdown reply into WhatsApp's markup and
// splits long replies into messages.
//
// [ToWhatsApp] parses CommonMark plus the GitHub extensions (tables,
// strikethrough, task lists, bare URLs) with goldmark and writes what a
// WhatsApp user expects to see:
//
//	**bold**, __bold__        *bold*
//	*italic*, _italic_        _italic_
//	***both***                *_both_*
//	~~strike~~                ~strike~
//	`code`                    `code` (without backticks if the code holds one)
//	fenced or indented code   ``` on its own line, content byte for byte, no language
//	# Heading                 *Heading*
//	---                       ———
//	> quote                   > quote
//	- item / 1. item          - item / 1. item, two spaces per nesting level
//	- [ ] task / - [x] task   - ☐ task / - ☑ task
//	[text](url)               text (url), or url when the text is the url
//	![alt](url)               alt (url)
//	<https://x>, bare URLs    the URL as written
//	small table               aligned monospace block (at most 40 columns)
//	wide table                one "- header: value, header: value" item per row
//	raw HTML                  shown as text
//
// WhatsApp has no escape character, so a *, _, ~ or ` that was literal in
// the Markdown (escaped, or not forming emphasis, as in "2 * 3 * 4") would
// be read as markup if another marker on the same line could pair with it.
// Only such a character, one that could open or close WhatsApp formatting
// and has a partner on its line, is replaced by a look-alike that WhatsApp
// ignores: ∗ (U+2217), ＿ (U+FF3F), ∼ (U+223C), ˋ (U+02CB). A lone marker,
// and markers inside words such as snake_case, stay as they are. Code and
// URLs are never touched.
//
// Plain text without Markdown comes back as it was, apart from trailing
// space, leading indentation and runs of blank lines, which collapse to
// one.
//
// [Split] cuts the result into messages no longer than the chunk limit,
// preferring paragraph breaks, then line breaks, then spaces, never cutting
// inside a ``` block that fits in a message or inside a character.
package markup
