#!/usr/bin/env python3
"""Write a one-layer OCI image layout tar from a directory, with no registry and no docker.

    oci-image.py --name registry.k8s.io/pause:3.10.1 --rootfs DIR --out pause.tar \
        --entrypoint /pause [--user 65535:65535] [--env K=V ...]

The layout's index names the image with the `io.containerd.image.name` annotation, which
`ctr images import` uses as the full image name. Output is byte-for-byte reproducible
(fixed mtimes, owners and ordering), so equal inputs give equal digests.
"""
import argparse, gzip, hashlib, io, json, os, stat, tarfile

EPOCH = 0
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def layer_tar(rootfs: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(rootfs):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, rootfs)
            names = [(d, True) for d in dirnames] + [(f, False) for f in sorted(filenames)]
            for name, _ in sorted(names):
                full = os.path.join(dirpath, name)
                arc = os.path.normpath(os.path.join(rel_dir, name))
                info = tar.gettarinfo(full, arcname=arc)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mtime = EPOCH
                if info.isreg():
                    with open(full, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)
    return buf.getvalue()


def blob(layout: dict, data: bytes) -> dict:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    layout["blobs/sha256/" + digest[7:]] = data
    return {"digest": digest, "size": len(data)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True)
    p.add_argument("--rootfs", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--entrypoint", action="append", default=[])
    p.add_argument("--user", default="")
    p.add_argument("--env", action="append", default=[])
    a = p.parse_args()

    raw = layer_tar(a.rootfs)
    gz = gzip.compress(raw, compresslevel=6, mtime=EPOCH)
    files: dict = {}
    layer = blob(files, gz)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": ["PATH=" + PATH] + a.env,
            "Entrypoint": a.entrypoint or None,
            "User": a.user,
            "WorkingDir": "/",
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]},
        "history": [{"created_by": "svclab oci-image.py"}],
    }
    cfg = blob(files, json.dumps(config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **cfg},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}],
    }
    man = blob(files, json.dumps(manifest, sort_keys=True).encode())
    tag = a.name.rsplit(":", 1)[1]
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", **man,
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {"io.containerd.image.name": a.name,
                            "org.opencontainers.image.ref.name": tag},
        }],
    }
    files["oci-layout"] = json.dumps({"imageLayoutVersion": "1.0.0"}).encode()
    files["index.json"] = json.dumps(index, sort_keys=True).encode()

    with tarfile.open(a.out, "w", format=tarfile.PAX_FORMAT) as out:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(files[name]), EPOCH, 0o644
            out.addfile(info, io.BytesIO(files[name]))
    print(f"{a.name} {man['digest']} layer {len(gz) // 1024} KiB")


if __name__ == "__main__":
    main()
