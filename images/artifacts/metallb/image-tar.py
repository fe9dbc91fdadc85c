#!/usr/bin/env python3
"""Write a one-layer image tar, FROM scratch, that `docker load` reads (docker-archive:
manifest.json + config + layer), with no registry and no docker daemon.

    image-tar.py --name svclab/traefik:v3.6.12 --rootfs DIR --out image.tar \
        --entrypoint /traefik [--user 65532:65532] [--env K=V ...]

Prints "<name> <image id>"; the id (sha256 of the config) is what `docker image inspect`
reports after the load, so the installer can skip a load docker already has. The output
is byte-for-byte reproducible (fixed mtimes, owners, ordering).

A copy of this file lives in each addon artifact (traefik, metallb): a recipe's hash
covers only its own folder, so a shared helper elsewhere would not rebuild them when it
changed.
"""
import argparse, hashlib, io, json, os, tarfile

EPOCH = 0
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def layer_tar(rootfs: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(rootfs):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, rootfs)
            for name in sorted(dirnames + filenames):
                full = os.path.join(dirpath, name)
                info = tar.gettarinfo(full, arcname=os.path.normpath(os.path.join(rel_dir, name)))
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mtime = EPOCH
                if info.isreg():
                    with open(full, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)
    return buf.getvalue()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True)
    p.add_argument("--rootfs", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--entrypoint", action="append", default=[])
    p.add_argument("--user", default="")
    p.add_argument("--env", action="append", default=[])
    a = p.parse_args()

    layer = layer_tar(a.rootfs)
    layer_id = hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {
            "Env": ["PATH=" + PATH] + a.env,
            "Entrypoint": a.entrypoint or None,
            "User": a.user,
            "WorkingDir": "/",
            "Labels": {"svclab.addon-image": a.name},
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + layer_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "svclab image-tar.py"}],
    }, sort_keys=True).encode()
    config_id = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{
        "Config": config_id + ".json",
        "RepoTags": [a.name],
        "Layers": [layer_id + "/layer.tar"],
    }]).encode()
    files = {
        config_id + ".json": config,
        layer_id + "/layer.tar": layer,
        "manifest.json": manifest,
        "repositories": json.dumps({a.name.rsplit(":", 1)[0]: {a.name.rsplit(":", 1)[1]: layer_id}}).encode(),
    }
    with tarfile.open(a.out, "w", format=tarfile.PAX_FORMAT) as out:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(files[name]), EPOCH, 0o644
            out.addfile(info, io.BytesIO(files[name]))
    print(f"{a.name} sha256:{config_id}")


if __name__ == "__main__":
    main()
