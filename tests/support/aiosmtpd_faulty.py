"""A real SMTP server for the tests (aiosmtpd), delivering to a Maildir, that can fail on demand.

Run: python -m aiosmtpd -n -l 127.0.0.1:PORT -c aiosmtpd_faulty.FaultyMailbox MAILDIR
(with this folder on PYTHONPATH). Leave MAILDIR absent: the server creates it.

The control file MAILDIR/../smtp_fault is read on every command; missing or empty means accept.
Each line is "STAGE REPLY" or "DELAY SECONDS":
  MAIL 451 4.3.0 try later     refuse MAIL FROM with that reply
  RCPT 550 5.1.1 no such user  refuse RCPT TO
  DATA 554 5.6.0 rejected      refuse the message after DATA
  DELAY 30                     wait that long before answering DATA (a slow server)
When DATA begins, the file MAILDIR/../data_started is created (tests wait for it).
"""
import asyncio
import pathlib

from aiosmtpd.handlers import Mailbox


class FaultyMailbox(Mailbox):
    def __init__(self, mail_dir):
        super().__init__(mail_dir)
        self.control = pathlib.Path(mail_dir).parent

    def _lines(self):
        try:
            return [l.strip() for l in (self.control / "smtp_fault").read_text().splitlines() if l.strip()]
        except FileNotFoundError:
            return []

    def _fault(self, stage):
        for line in self._lines():
            name, _, reply = line.partition(" ")
            if name == stage and reply[:1] in ("4", "5"):
                return reply
        return None

    def _delay(self):
        for line in self._lines():
            name, _, seconds = line.partition(" ")
            if name == "DELAY":
                return float(seconds)
        return 0.0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        fault = self._fault("MAIL")
        if fault:
            return fault
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        fault = self._fault("RCPT")
        if fault:
            return fault
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        (self.control / "data_started").touch()
        delay = self._delay()
        if delay:
            await asyncio.sleep(delay)
        fault = self._fault("DATA")
        if fault:
            return fault
        return await super().handle_DATA(server, session, envelope)
