// Package whatsapp connects waclaw to WhatsApp through whatsmeow: pairing
// (QR or phone code), the connection's lifecycle, whatsmeow events turned
// into bridge.Inbound messages (acknowledged only once the bridge recorded
// them; calls too, when they are rejected), and, as a bridge.Channel,
// replies rendered in WhatsApp's markup and split at its limit (package
// markup), typing and read receipts. It leaves no trace on the owner's
// own account: online only while a reply is typed, and no numbers or
// JIDs in the log above debug level.
package whatsapp
