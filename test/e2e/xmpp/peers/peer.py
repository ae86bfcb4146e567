"""
Real XMPP clients (slixmpp) driven by a script, for the end-to-end tests.

Every client logs in the way a user's client would (STARTTLS, direct TLS or plain TCP; a chosen
SASL mechanism), then the script's steps run in order, and everything a client receives is
printed as one JSON line: the harness in test/helpers/xmpp.ts reads them. Nothing waits forever:
each step has a timeout and the whole run has a hard one.

The script (JSON, the first argument, or @FILE):
  server      {"host", "port"}
  clients     name -> {"jid", "password", "tls": "starttls" | "direct" | "none", "mech", "port",
              "roster": fetch it at login (default true), "presence": true | false | "<presence .../>",
              "connect": log in at the start (default true)}
  steps       in order, each one of:
              {"as": C, "login": true}            log C in now
              {"as": C, "send": XML}              write XML on C's stream
              {"as": C, "iq": XML}                send an IQ (with an id) and wait for its answer: event reply
              {"as": C, "wait": [S, ...]}         the next stanza C got containing every S: event matched
              {"as": C, "absent": [S], "for": MS} after MS, C's stanzas with every S not yet waited for: event absent
              {"as": C, "disconnect": true}       close the stream properly
              {"as": C, "abort": true}            drop the socket, no closing tag
              {"as": C, "wait_closed": true}      until the node closes C's stream
              {"as": C, "plugin": P, "call": M, "args": [...], "kwargs": {...}}
                                                  slixmpp's own plugin P (xep_0045, xep_0249) calls
                                                  method M, awaited when it returns an awaitable:
                                                  event called, with its result as text
              {"as": C, "configure": ROOM, "fields": {VAR: VALUE}}
                                                  the room's owner form (xep_0045) fetched, the
                                                  fields set, submitted: event configured, the form
              {"sleep": MS}
              {"checkpoint": NAME}                event checkpoint, then wait for a line on stdin
              A step's "label" comes back in its event; "timeout" (s) bounds it.
  timeout, step_timeout, serial_login
Events: online, auth_failed, recv (every stanza once logged in), stream_error, closed, reply,
matched, absent, checkpoint, error (a step failed: exit status 1), done.
"""
import asyncio
import json
import logging
import os
import ssl
import sys
import xml.etree.ElementTree as ET

from slixmpp import ClientXMPP

logging.basicConfig(level=logging.CRITICAL)


def emit(event, **data):
    data['event'] = event
    sys.stdout.write(json.dumps(data) + '\n')
    sys.stdout.flush()


def normalize(text):
    """Quotes differ between serializers; the tests write single quotes."""
    return text.replace('"', "'")


def insecure_context():
    """The node's certificate is self-signed: accept it, as `-n` does for go-sendxmpp."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class StepFailed(Exception):
    pass


class Peer:
    """One client: a slixmpp stream plus the stanzas it received, which steps wait on."""

    def __init__(self, name, spec, server):
        self.name = name
        self.spec = spec
        self.host = spec.get('host', server.get('host', '127.0.0.1'))
        self.port = spec.get('port', server.get('port', 5222))
        self.received = []
        self.consumed = set()
        self.changed = asyncio.Event()
        self.online = False
        self.closed = None
        self.xmpp = None

    def new_stream(self):
        spec = self.spec
        xmpp = ClientXMPP(spec['jid'], spec.get('password', ''), sasl_mech=spec.get('mech'))
        xmpp.ssl_context = insecure_context()
        xmpp.whitespace_keepalive = False
        # The tests drive subscriptions themselves: never answer a request on the user's behalf.
        xmpp.auto_authorize = None
        xmpp.auto_subscribe = False
        if spec.get('mech') == 'PLAIN':
            xmpp['feature_mechanisms'].unencrypted_plain = True
        for plugin in ('xep_0030', 'xep_0004', 'xep_0045', 'xep_0249'):
            xmpp.register_plugin(plugin)
        xmpp.add_filter('in', self.record)
        xmpp.add_event_handler('session_start', self.on_session_start)
        xmpp.add_event_handler('failed_auth', self.on_failed_auth)
        xmpp.add_event_handler('stream_error', self.on_stream_error)
        xmpp.add_event_handler('disconnected', self.on_disconnected)
        xmpp.add_event_handler('connection_failed', self.on_connection_failed)
        self.xmpp = xmpp
        self.session_started = asyncio.get_event_loop().create_future()
        self.closed = None
        self.stream_error = None
        return xmpp

    # What the client sees.

    def record(self, stanza):
        if self.online:
            xml = str(stanza)
            self.received.append(xml)
            emit('recv', client=self.name, xml=xml)
            self.changed.set()
        return stanza

    def on_session_start(self, _event):
        self.online = True
        mech = self.xmpp['feature_mechanisms'].mech
        tls = self.xmpp.transport.get_extra_info('ssl_object') if self.xmpp.transport else None
        emit('online', client=self.name, jid=str(self.xmpp.boundjid), mech=mech.name if mech else None, tls=tls.version() if tls else None)
        if not self.session_started.done():
            self.session_started.set_result(True)

    def on_failed_auth(self, failure):
        emit('auth_failed', client=self.name, xml=str(failure))
        if not self.session_started.done():
            self.session_started.set_result(False)

    def on_stream_error(self, error):
        self.stream_error = {'condition': error['condition'], 'text': error['text']}
        emit('stream_error', client=self.name, condition=error['condition'], text=error['text'], xml=str(error))

    def on_connection_failed(self, reason):
        emit('connection_failed', client=self.name, reason=str(reason))
        if not self.session_started.done():
            self.session_started.set_result(False)
        self.xmpp.abort()

    def on_disconnected(self, _reason):
        was_online = self.online
        self.online = False
        self.closed = True
        emit('closed', client=self.name, online=was_online, error=self.stream_error)
        if not self.session_started.done():
            self.session_started.set_result(False)
        self.changed.set()

    # What the client does.

    async def login(self, timeout):
        spec = self.spec
        xmpp = self.new_stream()
        tls = spec.get('tls', 'starttls')
        xmpp.connect((self.host, self.port), use_ssl=tls == 'direct', force_starttls=tls == 'starttls', disable_starttls=tls != 'starttls')
        try:
            ok = await asyncio.wait_for(self.session_started, timeout)
        except asyncio.TimeoutError:
            emit('login_timeout', client=self.name)
            xmpp.abort()
            return False
        if not ok:
            xmpp.abort()
            return False
        if spec.get('roster', True):
            xmpp.send_raw("<iq type='get' id='roster-1'><query xmlns='jabber:iq:roster'/></iq>")
            await self.wait(["id='roster-1'"], timeout)
        presence = spec.get('presence', True)
        if presence:
            xmpp.send_raw(presence if isinstance(presence, str) else '<presence/>')
            # RFC 6121 4.2.2: the server sends initial presence back to the resource that sent it.
            # Once it is back, the server has taken it, and the script's steps may count on it.
            await self.wait(['<presence', f"from='{self.xmpp.boundjid}'"], timeout)
        return True

    async def wait(self, needles, timeout, label=None):
        """The first stanza not yet waited for that contains every needle."""
        deadline = asyncio.get_event_loop().time() + timeout
        while True:
            for i, xml in enumerate(self.received):
                if i not in self.consumed and all(n in normalize(xml) for n in needles):
                    self.consumed.add(i)
                    return xml
            if self.closed and not self.online:
                raise StepFailed(f'{self.name} waited for {needles} but its stream is closed')
            left = deadline - asyncio.get_event_loop().time()
            if left <= 0:
                raise StepFailed(f'{self.name} waited {timeout}s for a stanza with {needles}; it got {len(self.received)} stanzas')
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    def pending(self, needles):
        return [xml for i, xml in enumerate(self.received) if i not in self.consumed and all(n in normalize(xml) for n in needles)]

    async def wait_closed(self, timeout):
        deadline = asyncio.get_event_loop().time() + timeout
        while not self.closed:
            left = deadline - asyncio.get_event_loop().time()
            if left <= 0:
                raise StepFailed(f'{self.name} is still connected after {timeout}s')
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def disconnect(self, timeout=3):
        if self.xmpp is None or self.closed:
            return
        self.xmpp.disconnect(wait=1)
        try:
            await self.wait_closed(timeout)
        except StepFailed:
            self.xmpp.abort()


def describe(value):
    """A plugin call's result as JSON: stanzas as their XML, lists and tuples item by item."""
    if isinstance(value, (list, tuple)):
        return [describe(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return normalize(str(value))


async def read_line():
    return await asyncio.get_event_loop().run_in_executor(None, sys.stdin.readline)


async def run_step(peers, step, index, default_timeout):
    timeout = step.get('timeout', default_timeout)
    if 'sleep' in step:
        await asyncio.sleep(step['sleep'] / 1000)
        return
    if 'checkpoint' in step:
        emit('checkpoint', name=step['checkpoint'])
        await read_line()
        return
    peer = peers[step['as']]
    if step.get('login'):
        await peer.login(timeout)
    elif 'send' in step:
        peer.xmpp.send_raw(step['send'])
    elif 'iq' in step:
        iq_id = ET.fromstring(step['iq']).get('id')
        if not iq_id:
            raise StepFailed(f'step {index}: an iq step needs an id')
        peer.xmpp.send_raw(step['iq'])
        xml = await peer.wait([f"id='{iq_id}'"], timeout)
        emit('reply', client=peer.name, id=iq_id, label=step.get('label'), xml=xml)
    elif 'wait' in step:
        xml = await peer.wait(step['wait'], timeout)
        emit('matched', client=peer.name, label=step.get('label'), xml=xml)
    elif 'absent' in step:
        await asyncio.sleep(step.get('for', 500) / 1000)
        found = peer.pending(step['absent'])
        emit('absent', client=peer.name, label=step.get('label'), found=found)
    elif step.get('disconnect'):
        await peer.disconnect(timeout)
    elif step.get('abort'):
        # A client that vanishes: the socket goes, no closing tag is sent.
        peer.xmpp.transport.abort()
        await peer.wait_closed(timeout)
    elif step.get('wait_closed'):
        await peer.wait_closed(timeout)
    elif 'plugin' in step:
        method = getattr(peer.xmpp.plugin[step['plugin']], step['call'])
        result = method(*step.get('args', []), **step.get('kwargs', {}))
        if asyncio.iscoroutine(result) or asyncio.isfuture(result):
            try:
                result = await asyncio.wait_for(result, timeout)
            except Exception as err:  # an IQ error or a refusal is what some tests expect
                stanza = getattr(err, 'iq', None) or getattr(err, 'presence', None)
                emit('called', client=peer.name, label=step.get('label'), error=normalize(str(stanza)) if stanza is not None else f'{type(err).__name__}: {err}')
                return
        emit('called', client=peer.name, label=step.get('label'), result=describe(result))
    elif 'configure' in step:
        muc = peer.xmpp.plugin['xep_0045']
        form = await muc.get_room_config(step['configure'], timeout=timeout)
        offered = normalize(str(form))
        for var, value in step.get('fields', {}).items():
            form.field[var].set_value(value)
        await muc.set_room_config(step['configure'], form, timeout=timeout)
        emit('configured', client=peer.name, label=step.get('label'), form=offered)
    else:
        raise StepFailed(f'step {index} does nothing: {json.dumps(step)}')


async def run(script):
    server = script.get('server', {})
    default_timeout = script.get('step_timeout', 5)
    peers = {name: Peer(name, spec, server) for name, spec in script['clients'].items()}
    status = 0
    try:
        logins = [p.login(default_timeout) for p in peers.values() if p.spec.get('connect', True)]
        # Clients log in one after another when asked to (presence order matters to some tests).
        if script.get('serial_login'):
            for login in logins:
                await login
        else:
            await asyncio.gather(*logins)
        for i, step in enumerate(script.get('steps', [])):
            await run_step(peers, step, i, default_timeout)
    except StepFailed as err:
        emit('error', message=str(err))
        status = 1
    for peer in peers.values():
        await peer.disconnect()
    emit('done', status=status)
    return status


def main():
    arg = sys.argv[1]
    # A script too long for the command line comes in a file: @PATH.
    if arg.startswith('@'):
        with open(arg[1:], encoding='utf-8') as f:
            arg = f.read()
    script = json.loads(arg)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        status = loop.run_until_complete(asyncio.wait_for(run(script), script.get('timeout', 30)))
    except asyncio.TimeoutError:
        emit('error', message=f"the whole script took longer than {script.get('timeout', 30)}s")
        status = 3
    sys.stdout.flush()
    os._exit(status)


if __name__ == '__main__':
    main()
