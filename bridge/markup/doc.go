// Package markup turns a model's Markdown into WhatsApp's markup and splits
// long replies into messages.
package markup

import _ "github.com/yuin/goldmark"
