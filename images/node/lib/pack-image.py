#!/usr/bin/env python3
"""Rewrite a docker-archive image tar (`docker save`, or an addon's image-tar.py output)
for the node's preload: every layer gzip-compressed and the image named --name only.

    pack-image.py --in web.tar --name svclab/web:latest --out /kind/images/web.tar

containerd's importer (`ctr images import`) reads docker archives, detects gzip layers
by their magic and, with --no-unpack, only copies the blobs: compressed layers are
what the node pays for at boot. The config is kept byte for byte, so the image id
(sha256 of the config, what `docker image inspect` and `crictl inspecti` report) is
the one docker has, and the installer can tell a preloaded image from a stale one.
gzip with mtime 0: equal input gives equal output.
"""
import argparse, gzip, hashlib, io, json, posixpath, tarfile


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--in", dest="src", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()

    with tarfile.open(a.src) as src:
        def read(name: str) -> bytes:
            m = src.getmember(name)
            for _ in range(8):  # docker save links a layer that two images share
                if not (m.issym() or m.islnk()):
                    break
                name = m.linkname if m.islnk() else posixpath.normpath(posixpath.join(posixpath.dirname(name), m.linkname))
                m = src.getmember(name)
            f = src.extractfile(m)
            if f is None:
                raise SystemExit(f"{a.src}: {name} is not a file")
            return f.read()

        manifest = json.loads(read("manifest.json"))
        if len(manifest) != 1:
            raise SystemExit(f"{a.src}: expected one image, found {len(manifest)}")
        entry = manifest[0]
        config = read(entry["Config"])
        layers = []
        for i, layer in enumerate(entry["Layers"]):
            raw = read(layer)
            if raw[:2] != b"\x1f\x8b":
                buf = io.BytesIO()
                with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=6, mtime=0) as gz:
                    gz.write(raw)
                raw = buf.getvalue()
            layers.append((f"layer-{i}.tar.gz", raw))

    config_name = entry["Config"].split("/")[-1]
    files = [(config_name, config)] + layers + [
        ("manifest.json", json.dumps([{"Config": config_name, "RepoTags": [a.name], "Layers": [n for n, _ in layers]}]).encode()),
    ]
    with tarfile.open(a.out, "w", format=tarfile.PAX_FORMAT) as out:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            out.addfile(info, io.BytesIO(data))
    print(f"{a.name} sha256:{hashlib.sha256(config).hexdigest()} {sum(len(d) for _, d in layers)} bytes of layers")


if __name__ == "__main__":
    main()
