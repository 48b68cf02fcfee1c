// Package whatsapp connects waclaw to WhatsApp through whatsmeow: pairing
// (QR or phone code), the connection's lifecycle (every wait for the
// network ends at Ctrl-C, and an unreachable WhatsApp is said in plain
// words), whatsmeow events turned into bridge.Inbound messages
// (acknowledged only once the bridge recorded them; calls too, when they
// are rejected; voice notes, pictures, stickers and documents with a
// bridge.Attachment that downloads the file when the bridge asks, an
// expired one asked of the phone again: media.go), and, as a
// bridge.Channel, replies rendered in WhatsApp's markup and split at its
// limit (package markup), typing and read receipts. A person's chat has
// one key, their phone-number JID whenever the number is known, however
// WhatsApp addresses them (keys.go). It leaves no trace on the owner's own
// account: online only while a reply is typed, and no numbers, JIDs or
// file addresses in the log above debug level.
package whatsapp
