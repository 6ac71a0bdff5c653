import hashlib
import json
import os

from minilm_convert import metadata as M
from minilm_convert import validate as V


def test_metadata(converted, model_dir):
    spec = V.load(converted["path"]).get_spec()
    md = dict(spec.description.metadata.userDefined)
    opts = converted["opts"]
    for k in M.REQUIRED_KEYS:
        assert md.get(k), k
    assert "com.github.apple.coremltools.conversion_date" not in md
    assert not any("date" in k.lower() for k in md)
    assert md[M.KEY_VARIANT] == "default"
    assert json.loads(md[M.KEY_FLAGS]) == json.loads(json.dumps(opts.flag_dict()))
    assert json.loads(md[M.KEY_SHAPES])["shapes"] == [[1, 16], [1, 64], [4, 16], [4, 64]]
    with open(os.path.join(model_dir, "model.safetensors"), "rb") as f:
        assert md[M.KEY_WEIGHTS_SHA] == hashlib.sha256(f.read()).hexdigest()
    tc = json.loads(md[M.KEY_TOOLCHAIN])
    import coremltools, numpy, torch, transformers

    assert tc["torch"] == torch.__version__ and tc["transformers"] == transformers.__version__
    assert tc["coremltools"] == coremltools.__version__ and tc["numpy"] == numpy.__version__
    d = spec.description.metadata
    assert "Apache-2.0" in d.license and d.author and d.versionString == "1.0.0+default"
    assert "pool" in d.shortDescription.lower() and "last_hidden_state" in d.shortDescription
    assert "mean pooling" in md[M.KEY_POOLING]
    assert float(md[M.KEY_MASK]) == -1e4 and float(md[M.KEY_EPS]) == 1e-7
    assert not any(converted["path"] in v for v in md.values()), "no absolute paths in metadata"
    # The single-input default: macOS 14 / iOS 17, and the id encoding of go/backend/coreml/inputs.go.
    assert json.loads(md[M.KEY_MINIMUM_OS]) == {"macOS": "14.0", "iOS": "17.0", "specification_version": 8,
                                                "reasons": []}
    assert spec.specificationVersion == 8
    assert json.loads(md[M.KEY_INPUTS]) == ["input_ids"]
    assert json.loads(md[M.KEY_INPUT_ENCODING]) == {"pad_id": 0, "literal_pad_id": -1}
    assert "macOS 14.0+ / iOS 17.0+" in d.shortDescription and "-1" in d.shortDescription
    assert "-1" in spec.description.input[0].shortDescription
