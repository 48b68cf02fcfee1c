// Package whatsapp connects waclaw to WhatsApp through whatsmeow.
package whatsapp

import (
	_ "github.com/makiuchi-d/gozxing"
	_ "github.com/mdp/qrterminal/v3"
	_ "github.com/skip2/go-qrcode"
	_ "go.mau.fi/whatsmeow"
	_ "go.mau.fi/whatsmeow/store/sqlstore"
)
