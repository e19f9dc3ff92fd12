"""Apache Kafka 4.1.1, one combined broker+controller node in KRaft mode, on
Java 17 (Debian's openjdk-17-jre-headless), from Maven Central.

Install: Maven copies org.apache.kafka:kafka_2.13 and the log4j binding with
their dependencies (43 MB) into the cache, with Maven's own repository
there too, so a clean checkout starts the broker without a download.

Each server formats a fresh metadata directory in its workdir and listens on
three free ports of 127.0.0.1: PLAINTEXT (``port``), SASL_PLAINTEXT
(``sasl_port``: PLAIN user ``alice``/``alice-secret`` and SCRAM-SHA-256 user
``bob``/``bob-secret``) and the controller's. ``restart()`` keeps the ports
and the data. Topics are created on first use with 4 partitions.

The JVM gets at most 512 MB of heap; ``Kafka(bench=True)`` runs with the
full JIT for benchmarks, the tests with C1 only, which starts faster.
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path
from typing import Any

from common import Server, cache_dir, free_port, run

VERSION = "4.1.1"
LOG4J = "2.24.3"
PLAIN_USER, PLAIN_PASSWORD = "alice", "alice-secret"
SCRAM_USER, SCRAM_PASSWORD = "bob", "bob-secret"

POM = f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>vexil.tests</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>{LOG4J}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>{LOG4J}</version></dependency>
  </dependencies>
</project>
"""


def home() -> Path:
    return cache_dir() / f"kafka-{VERSION}"


def tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise RuntimeError(f"{name} is needed for the Kafka test broker "
                           "(scripts/install-deps.sh installs openjdk-17-jre-headless and maven)")
    return path


class KafkaServer(Server):
    name = "kafka"
    start_timeout = 90.0

    def __init__(self, bench: bool = False) -> None:
        super().__init__()
        self.bench = bench
        self.sasl_port = 0
        self.controller_port = 0

    @classmethod
    def installed(cls) -> bool:
        return (home() / ".complete").exists()

    @classmethod
    def install(cls) -> None:
        mvn = tool("mvn")
        tool("java")
        h = home()
        h.mkdir(parents=True, exist_ok=True)
        (h / "pom.xml").write_text(POM)
        shutil.rmtree(h / "libs", ignore_errors=True)
        run([mvn, "-q", "-B", f"-Dmaven.repo.local={cache_dir() / 'm2'}", "-f", str(h / "pom.xml"),
             "dependency:copy-dependencies", f"-DoutputDirectory={h / 'libs'}"])
        (h / ".complete").write_text(VERSION + "\n")

    def java(self) -> list[str]:
        flags = ["-Xmx512m", "-Xms64m", "-XX:+UseSerialGC", "-Djava.awt.headless=true"]
        if not self.bench:
            flags.append("-XX:TieredStopAtLevel=1")
        return [tool("java"), *flags, "-cp", str(home() / "libs" / "*")]

    def properties(self, workdir: Path) -> Path:
        p = self.port
        text = f"""process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{self.controller_port}
listeners=PLAINTEXT://127.0.0.1:{p},SASL_PLAINTEXT://127.0.0.1:{self.sasl_port},CONTROLLER://127.0.0.1:{self.controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{p},SASL_PLAINTEXT://127.0.0.1:{self.sasl_port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={workdir / "data"}
num.partitions=4
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.flush.interval.messages=9223372036854775807
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_{PLAIN_USER}="{PLAIN_PASSWORD}";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
"""
        path = workdir / "server.properties"
        path.write_text(text)
        return path

    def format(self, props: Path, workdir: Path) -> None:
        if (workdir / "data" / "meta.properties").exists():
            return  # a restart keeps the cluster
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
        # One id in 64 starts with '-': given as its own argument, the tool's
        # parser takes it for an option and refuses to format.
        run([*self.java(), "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}",
             "-c", str(props),
             "--add-scram", f"SCRAM-SHA-256=[name={SCRAM_USER},password={SCRAM_PASSWORD}]"])

    def command(self, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
        if not self.controller_port:
            self.sasl_port, self.controller_port = free_port(), free_port()
        props = self.properties(workdir)
        self.format(props, workdir)
        return [*self.java(), "kafka.Kafka", str(props)], {}

    def info(self) -> dict[str, Any]:
        return {"bootstraps": f"127.0.0.1:{self.port}",
                "sasl_bootstraps": f"127.0.0.1:{self.sasl_port}",
                "plain": [PLAIN_USER, PLAIN_PASSWORD], "scram": [SCRAM_USER, SCRAM_PASSWORD]}


SERVER = KafkaServer
