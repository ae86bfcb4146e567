import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { LOG_LEVELS } from '../config/config';

export interface Logger {
  level(): number;
  setLevel(level: number): void;
  critical(message: string): void;
  error(message: string): void;
  warning(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  /** Reopens the file by name: what logrotate's `postrotate` asks for after moving it away. */
  reopen(): void;
  /** Renames ctl.log to ctl.log.1 (shifting older ones up to KEEP) and starts a new file. */
  rotate(): void;
  close(): void;
}

const KEEP = 5;

/**
 * The node's log: one line per event, `2026-11-26T08:00:00.000Z [info] text`, appended to
 * `file` (and echoed to `echo` when the node runs in the foreground). Levels are ejabberd's
 * 0–5; a message is written when its level is at most the current one.
 */
export function createLogger(file: string, level: number, echo?: { write(s: string): unknown }): Logger {
  mkdirSync(dirname(file), { recursive: true, mode: 0o750 });
  let fd = openSync(file, 'a', 0o640);
  let current = level;

  const write = (at: number, message: string) => {
    if (at > current) return;
    const line = `${new Date().toISOString()} [${LOG_LEVELS[at]}] ${message}\n`;
    writeSync(fd, line);
    echo?.write(line);
  };

  const reopen = () => {
    closeSync(fd);
    fd = openSync(file, 'a', 0o640);
  };

  return {
    level: () => current,
    setLevel(l) {
      current = l;
    },
    critical: (m) => write(1, m),
    error: (m) => write(2, m),
    warning: (m) => write(3, m),
    info: (m) => write(4, m),
    debug: (m) => write(5, m),
    reopen,
    rotate() {
      for (let i = KEEP - 1; i >= 1; i--) if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
      if (existsSync(file)) renameSync(file, `${file}.1`);
      reopen();
    },
    close() {
      closeSync(fd);
    },
  };
}
