module waclaw

go 1.26

require (
	github.com/google/go-cmp v0.7.0
	github.com/mattn/go-sqlite3 v1.14.53
	github.com/tailscale/hujson v0.0.0-20260727124030-b80ff77dac4f
)
