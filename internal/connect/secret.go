package connect

import (
	"fmt"
	"os"
	"strings"
)

// ReadSecret is a secret from its flag (or the flag's environment variable, which the command
// line parser has already applied) or from its -file flag, the file's content trimmed. Giving
// both is an error; so is an empty file. Errors name the flag and the file, never the content.
func ReadSecret(value, file, flagName string) (string, error) {
	value = strings.TrimSpace(value)
	if file == "" {
		return value, nil
	}
	if value != "" {
		return "", fmt.Errorf("give --%s (or its environment variable) or --%s-file, not both", flagName, flagName)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--%s-file: %w", flagName, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("--%s-file %s is empty", flagName, file)
	}
	return s, nil
}
