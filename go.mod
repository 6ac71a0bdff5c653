module github.com/minilm-coreml/minilm

go 1.19
