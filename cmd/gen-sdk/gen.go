// Command gen-sdk regenerates the umbrellakafka Go SDK under sdk/go from the
// provider's schema, read in-process (no plugin binary, no Go language host):
//
//	go run ./cmd/gen-sdk
//
// It writes the files that pulumi's Go code generator returns and removes
// stale files from the SDK directory. TestSDKUpToDate fails when the checked-in
// SDK differs from what this command would write.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/blang/semver"
	p "github.com/pulumi/pulumi-go-provider"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"

	"github.com/umbrella-platform/umbrella-streaming/provider"
)

// sdkSubdir is where the SDK lives relative to the repository root; the
// generator's file names start with the package directory (umbrellakafka/...).
const sdkSubdir = "sdk/go"

func main() {
	out := flag.String("out", sdkSubdir, "directory to write the Go SDK into (the umbrellakafka/ package goes below it)")
	flag.Parse()
	files, err := Generate(context.Background())
	if err == nil {
		err = Write(*out, files)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gen-sdk: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("gen-sdk: wrote %d files under %s\n", len(files), *out)
}

// Generate returns the Go SDK files (path relative to sdk/go -> content) for
// the provider's current schema.
func Generate(ctx context.Context) (map[string][]byte, error) {
	spec, err := p.GetSchema(ctx, provider.Name, provider.Version, provider.Provider())
	if err != nil {
		return nil, fmt.Errorf("reading the provider schema: %w", err)
	}
	pkg, diags, err := schema.BindSpec(spec, refuseLoader{}, schema.ValidationOptions{})
	if err != nil {
		return nil, fmt.Errorf("binding the schema: %w", err)
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("binding the schema: %s", diags.Error())
	}
	files, err := gogen.GeneratePackage("gen-sdk", pkg, nil)
	if err != nil {
		return nil, fmt.Errorf("generating the Go SDK: %w", err)
	}
	return files, nil
}

// Write replaces the SDK under dir with files: it writes every file and
// removes files under dir's package directories that are no longer generated.
func Write(dir string, files map[string][]byte) error {
	existing, err := listFiles(dir)
	if err != nil {
		return err
	}
	for _, name := range existing {
		if _, ok := files[name]; !ok {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	for _, name := range sortedNames(files) {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// listFiles returns the files below dir as slash-separated relative paths;
// a missing dir has none.
func listFiles(dir string) ([]string, error) {
	var names []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if os.IsNotExist(err) && path == dir {
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		names = append(names, filepath.ToSlash(rel))
		return err
	})
	sort.Strings(names)
	return names, err
}

func sortedNames(files map[string][]byte) []string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// refuseLoader is the schema loader BindSpec requires. The umbrellakafka
// schema references no other package, so every load is refused.
type refuseLoader struct{}

func (refuseLoader) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("gen-sdk: the umbrellakafka schema must not reference package %q", pkg)
}

func (refuseLoader) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, fmt.Errorf("gen-sdk: the umbrellakafka schema must not reference package %q", d.Name)
}
