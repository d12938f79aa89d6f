"""A real SMTP server on loopback for the mail tests (aiosmtpd).

    smtp_sink.py PORT DIR [USER PASSWORD]

Listens on 127.0.0.1:PORT; writes every message it accepts to DIR as
NNNN.eml (written to a temporary name, then renamed, so a reader never sees
half a message). With USER and PASSWORD it offers AUTH PLAIN/LOGIN (without
TLS: loopback only) and refuses mail from a client that did not log in.
Prints "ready" once it accepts connections; stops on stdin EOF or SIGTERM.
"""

import os
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, directory, need_auth):
        self.directory = directory
        self.need_auth = need_auth
        self.count = 0
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.need_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        path = os.path.join(self.directory, "%04d.eml" % n)
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(path + ".tmp", path)
        return "250 Message accepted for delivery"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    creds = sys.argv[3:5] if len(sys.argv) >= 5 else None

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            creds is not None
            and isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == creds[0]
            and auth_data.password.decode() == creds[1]
        )
        # handled=False: aiosmtpd answers 535 itself.
        return AuthResult(success=ok, handled=False)

    kwargs = {}
    if creds:
        kwargs = dict(authenticator=authenticator, auth_require_tls=False)
    controller = Controller(
        Sink(directory, creds is not None), hostname="127.0.0.1", port=port, **kwargs
    )
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
