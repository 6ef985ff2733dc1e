package cmd

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/crl"
)

type storeCopyOptions struct {
	from, to, output string
}

// newStoreCmd is `cmgpki store`, with `store copy` to move a lab's
// revocation store (SQLite) to the PostgreSQL database several serve
// instances share.
func newStoreCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "store",
		Short: "manage the revocation store (copy a lab's SQLite store to PostgreSQL)",
		Args:  noArgs,
	}
	o := &storeCopyOptions{}
	cp := &cobra.Command{
		Use:   "copy --from STORE --to STORE",
		Short: "copy every certificate record, revocation and CRL number from one store to another",
		Long: `Copy a revocation store into another, e.g. a lab's SQLite file into the
PostgreSQL database that several "cmgpki serve" instances share. Records the
target lacks are added, revocations are applied (a revocation in the target
is never undone; one revoked differently in the two stores keeps the
target's state and is counted as a conflict), the latest CRL of each CA is
copied and CRL numbers continue above the source's. Running it again
changes nothing. Stop the lab's "cmgpki serve" and revokes first: a
revocation made in the source during the copy may be missed.

STORE is sqlite:PATH or postgres://USER@HOST:PORT/DB (password from
PGPASSWORD or ~/.pgpass, never inside the flag). To move a lab to the
database its serve instances will share:

  PGPASSWORD=... cmgpki store copy --from sqlite:cmg-lab/revocation.db \
      --to postgres://cmgpki@db.contoso.com/cmgpki

` + exitCodesHelp(runCodes...),
		Example: "  # a copy of the lab's store in another SQLite file (running it again changes nothing)\n" +
			"  cmgpki store copy --from sqlite:cmg-lab/revocation.db --to sqlite:cmg-lab-copy.db",
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runStoreCopy(c.Context(), f, o) },
	}
	cp.Flags().StringVar(&o.from, "from", "", "source store (required)")
	cp.Flags().StringVar(&o.to, "to", "", "target store (required)")
	addOutputFlag(cp, &o.output)
	c.AddCommand(cp)
	return c
}

func openCopyable(ctx context.Context, flag, v string) (crl.Copyable, storeLoc, error) {
	if v == "" {
		return nil, storeLoc{}, &UsageError{Err: fmt.Errorf("%s is required", flag), ShowUsage: true}
	}
	loc, err := resolveStore(nil, v, "")
	if err != nil {
		var ue *UsageError
		if errors.As(err, &ue) {
			return nil, loc, usageErr(fmt.Errorf("%s: %w", flag, ue.Err))
		}
		return nil, loc, err
	}
	st, err := loc.open(ctx)
	if err != nil {
		return nil, loc, err
	}
	return st.(crl.Copyable), loc, nil
}

var storeCopyColumns = []column{{Header: "FROM", Priority: 1}, {Header: "TO", Priority: 1}, {Header: "CAS", Priority: 2},
	{Header: "RECORDS", Priority: 1}, {Header: "REVOKED", Priority: 1}, {Header: "NEWLY REVOKED", Priority: 1},
	{Header: "CRLS", Priority: 2}, {Header: "CONFLICTS", Priority: 1}}

func runStoreCopy(ctx context.Context, f *Factory, o *storeCopyOptions) error {
	if err := outputFormat(o.output); err != nil {
		return err
	}
	if o.from != "" && o.from == o.to {
		return usageErr(errors.New("--from and --to name the same store"))
	}
	if o.from != "" {
		// A missing source file would be created empty by opening it.
		if loc, err := resolveStore(nil, o.from, ""); err == nil && !loc.exists() {
			return usageErr(fmt.Errorf("--from %s: no such store file", o.from))
		}
	}
	from, floc, err := openCopyable(ctx, "--from", o.from)
	if err != nil {
		return err
	}
	defer from.Close()
	to, tloc, err := openCopyable(ctx, "--to", o.to)
	if err != nil {
		return err
	}
	defer to.Close()
	res, err := crl.CopyStore(ctx, from, to)
	if err != nil {
		return fmt.Errorf("store copy %s -> %s: %w", floc, tloc, err)
	}
	if o.output == "json" {
		return renderJSON(f.IO.Out, struct {
			Schema string `json:"schema"`
			From   string `json:"from"`
			To     string `json:"to"`
			crl.CopyResult
		}{"cmgpki/store-copy/v1", floc.String(), tloc.String(), res})
	}
	if err := renderTable(f, storeCopyColumns,
		[][]string{{floc.String(), tloc.String(), strconv.Itoa(res.Issuers), strconv.Itoa(res.Records), strconv.Itoa(res.Revocations),
			strconv.Itoa(res.NewRevoked), strconv.Itoa(res.CRLs), strconv.Itoa(res.Conflicts)}}); err != nil {
		return err
	}
	if res.Conflicts > 0 {
		fmt.Fprintf(f.IO.ErrOut, "Warning: %d revocations differ between the stores; the target's were kept\n", res.Conflicts)
	}
	return nil
}
