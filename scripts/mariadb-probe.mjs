// Does a MariaDB/MySQL server answer where the tests look for one? A TCP connect to the
// host and port of ZENFLOW_TEST_MARIADB_URL (default 127.0.0.1:3306), at most 1.5 s.
// As a program it exits 0 when one answers, 1 otherwise (test/support/db.ts runs it once).
import { connect } from "node:net";
import { pathToFileURL } from "node:url";

export function mariadbAddress(env = process.env) {
  const u = new URL(env.ZENFLOW_TEST_MARIADB_URL ?? "mysql://root@127.0.0.1:3306/test");
  return { host: u.hostname, port: Number(u.port || 3306) };
}

export function mariadbAnswers(env = process.env) {
  const { host, port } = mariadbAddress(env);
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1500, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exit((await mariadbAnswers()) ? 0 : 1);
}
