// Package profiles holds what each CMG role's certificate must be, as data
// (Profile values with the Microsoft source of every requirement) plus the
// certificate rules (rule_*.go) that check any certificate against its role.
//
// The same Profile drives issuing (package ca calls Apply and lints before it
// signs) and linting of anyone's certificates, so a requirement lives here
// and nowhere else.
package profiles
