package config

import "strings"

func sp(s string) *string { return &s }
func ip(i int) *int       { return &i }
func i64p(i int64) *int64 { return &i }
func bp(b bool) *bool     { return &b }

func longName(n int) string { return strings.Repeat("t", n) }

// validDev is a complete, valid dev config: the base every bad case breaks once.
func validDev() Raw {
	return Raw{ClusterID: sp("5BlkQlAaBVX6rb9uzmmt7w"), Brokers: ip(1), Controllers: ip(1)}
}
