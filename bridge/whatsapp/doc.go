// Package whatsapp connects waclaw to WhatsApp through whatsmeow: pairing
// (QR or phone code), the connection's lifecycle, whatsmeow events turned
// into bridge.Inbound messages (acknowledged only once the bridge recorded
// them), and replies, typing and read receipts as a bridge.Channel.
package whatsapp
