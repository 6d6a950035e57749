"""opentsdb-client (PyPI) pushes through OpenTSDB's POST /api/put (gzipped JSON, ?details), as a user of it would."""
import sys

from opentsdb import TSDBClient

client = TSDBClient(uri=sys.argv[1], host_tag=False, static_tags={"env": "ci"})
client.send("sys.cpu.user", 42.5, host="web1", timestamp=1700000000)
client.send("sys.cpu.user", 40, host="web2", timestamp=1700000000)
client.send("sys.cpu.user", "not-a-number", host="web3", timestamp=1700000000)
client.close()
client.wait()
print(f"statuses {client.statuses['success']} {client.statuses['failed']}")
