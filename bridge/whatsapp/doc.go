// Package whatsapp connects waclaw to WhatsApp through whatsmeow: pairing
// (QR or phone code), the connection's lifecycle, whatsmeow events turned
// into bridge.Inbound messages (acknowledged only once the bridge recorded
// them), and, as a bridge.Channel, replies rendered in WhatsApp's markup
// and split at its limit (package markup), typing and read receipts.
package whatsapp
