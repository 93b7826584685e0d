#!/usr/bin/python3
"""Independent DKIM check of a message on stdin with dkimpy (Debian python3-dkim).

Usage: dkim_verify.py DNS_PORT [INDEX]
Keys are looked up in the DNS server on 127.0.0.1:DNS_PORT (the test's dnsmasq). Verifies the
signature number INDEX (default 0, the topmost). Exit 0 when it verifies, 1 when it does not,
2 on a usage or lookup error.
"""
import sys

import dkim
import dns.resolver


def main():
    port = int(sys.argv[1])
    index = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = port
    # Generous: the test machine may be busy; a slow answer must not look like a missing key.
    resolver.timeout = 10
    resolver.lifetime = 20

    def dnsfunc(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        try:
            answer = resolver.resolve(name.rstrip("."), "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        return b"".join(b"".join(r.strings) for r in answer[:1])

    message = sys.stdin.buffer.read()
    verifier = dkim.DKIM(message)
    ok = verifier.verify(idx=index, dnsfunc=dnsfunc)
    sys.stderr.write("dkimpy: %s\n" % ("pass" if ok else "fail"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
