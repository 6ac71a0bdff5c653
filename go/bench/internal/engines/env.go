package engines

import (
	"os"

	"github.com/minilm-coreml/minilm/go/embed"
)

func envCoreML() string { return os.Getenv(embed.EnvCoreMLModel) }
