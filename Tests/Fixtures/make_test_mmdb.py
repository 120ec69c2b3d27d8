#!/usr/bin/env python3
"""Writes a small GeoLite2-Country-shaped MaxMind DB for Teiten's tests.

No Debian package ships a test .mmdb; mmdb-writer (PyPI) makes one.
Usage: make_test_mmdb.py OUT.mmdb
"""
import sys

from mmdb_writer import MMDBWriter
from netaddr import IPSet

writer = MMDBWriter(ip_version=6, database_type="GeoLite2-Country", ipv4_compatible=True)
writer.insert_network(IPSet(["192.0.2.0/24"]), {"country": {"iso_code": "JP"}})
writer.insert_network(IPSet(["198.51.100.0/25"]), {"country": {"iso_code": "FR"}})
writer.insert_network(IPSet(["203.0.113.0/24"]), {"registered_country": {"iso_code": "BR"}})
writer.insert_network(IPSet(["2001:db8:1::/48"]), {"country": {"iso_code": "DE"}})
writer.to_db_file(sys.argv[1])
