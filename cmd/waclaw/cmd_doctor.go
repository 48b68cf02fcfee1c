package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"

	"waclaw/cmd/waclaw/doctor"
)

// doctorCommand checks the config, database, model chain and WhatsApp
// link, one line per check; it fails when the chain cannot work.
func doctorCommand(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "print the checks as JSON")
	return func(ctx context.Context, e *env) error {
		if len(e.args) > 0 {
			return usageError{"doctor takes no arguments"}
		}
		path, explicit := e.global.configFile("")
		r := doctor.Run(ctx, doctor.Options{
			ConfigPath: path, ConfigExplicit: explicit,
			DataDir: e.global.dataDirPath(), Database: e.global.databasePath(),
		})
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(r); err != nil {
				return err
			}
		} else if err := r.Write(e.stdout); err != nil {
			return err
		}
		if !r.OK {
			return errors.New("doctor: a required check failed")
		}
		return nil
	}
}
