#!/usr/bin/perl
# Sends raw SIP messages to acdd and reports what came back (tests/sip/sip_hostile_test.sh).
# Only perl-base modules (IO::Socket::INET, IO::Select), so it runs on any Debian.
#
#   sip_send.pl [options] FILE
#     --transport udp|tcp   (default udp)
#     --host IP --port N    where acdd listens (default 127.0.0.1, no default port)
#     --bind IP             local address to send from (default 127.0.0.1)
#     --wait SECONDS        how long to wait for a response (default 2; after a provisional
#                           response, up to 3 more seconds for the final one)
#     --header NAME         also print the response's NAME header ("NAME: value", or
#                           "NAME: (none)") on a second line
#     --flood N             send N copies (fresh Call-ID and branch each) as fast as
#                           possible from one socket, then count the replies that arrive
#                           within --wait: prints "sent=N replies=M"
#
# Without --flood it prints one line: the final response's status line ("SIP/2.0 400 Bad
# Request"), else the last provisional one, else "silence" (nothing within the wait),
# "closed" (TCP: the server closed the connection without a response), "pong" (only CRLF
# keep-alive bytes came back), "stun: ..." (a STUN message came back: sofia-sip's UDP
# transport treats datagrams starting with byte 0 or 1 as STUN) or "garbage: ..." (other
# bytes that are not a SIP response).
# A final non-2xx response to an INVITE is acknowledged (ACK), so the server's
# retransmissions stop; a 2xx is acknowledged and the dialog ended with BYE.
#
# FILE format: leading lines starting with '#' are comments (the test reads "# expect:"
# from them); the rest is the message, one line per line, sent with CRLF line ends
# (unless a comment says "# eol: lf" or "# eol: none"). Substitutions in the message:
#   @IP@ @PORT@         our local address and port      @RIP@ @RPORT@  acdd's
#   @TRANSPORT@         UDP or TCP                       @BRANCH@ @CALLID@ @TAG@  fresh
#   @FILL:N@            N letters 'a'                    \xHH \r \n    the byte HH, CR, LF
#   @LEN@               the length of the body (what follows the first empty line)
#   a line "@REPEAT:N@text": text N times, @I@ replaced by 1..N
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;

my %opt = (transport => 'udp', host => '127.0.0.1', bind => '127.0.0.1', wait => 2);
while (@ARGV && $ARGV[0] =~ /^--(\w+)$/) {
  my $key = $1;
  shift @ARGV;
  defined(my $value = shift @ARGV) or die "option --$key needs a value\n";
  $opt{$key} = $value;
}
my $file = shift @ARGV or die "usage: sip_send.pl [options] FILE\n";
defined $opt{port} or die "--port is needed\n";
my $tcp = $opt{transport} eq 'tcp';

open(my $fh, '<', $file) or die "cannot read $file: $!\n";
my (@comments, @lines);
while (my $line = <$fh>) {
  chomp $line;
  if (!@lines && $line =~ /^#/) { push @comments, $line; next; }
  push @lines, $line;
}
close $fh;
my $eol = "\r\n";
for (@comments) {
  $eol = "\n" if /^#\s*eol:\s*lf/;
  $eol = "" if /^#\s*eol:\s*none/;
}

my $sock;
if ($tcp) {
  $sock = IO::Socket::INET->new(Proto => 'tcp', LocalAddr => $opt{bind}, PeerAddr => $opt{host},
                                PeerPort => $opt{port}, Timeout => 5)
    or die "cannot connect to $opt{host}:$opt{port}: $!\n";
} else {
  $sock = IO::Socket::INET->new(Proto => 'udp', LocalAddr => $opt{bind}, PeerAddr => $opt{host},
                                PeerPort => $opt{port})
    or die "cannot open a UDP socket: $!\n";
}
binmode $sock;
my $select = IO::Select->new($sock);
my $have_hires = eval { require Time::HiRes; 1 };
my $serial = 0;

# The message with its substitutions, as bytes.
sub build {
  ++$serial;
  my $unique = sprintf('%d-%d-%d', $$, time, $serial);
  my %vars = (
    IP => $sock->sockhost, PORT => $sock->sockport, RIP => $opt{host}, RPORT => $opt{port},
    TRANSPORT => uc $opt{transport}, BRANCH => "z9hG4bK-torture-$unique",
    CALLID => "torture-$unique", TAG => "t$unique");
  my @out;
  for my $line (@lines) {
    if ($line =~ /^\@REPEAT:(\d+)\@(.*)$/) {
      my ($n, $text) = ($1, $2);
      for my $i (1 .. $n) { (my $copy = $text) =~ s/\@I\@/$i/g; push @out, $copy; }
    } else {
      push @out, $line;
    }
  }
  my $text = join('', map { "$_$eol" } @out);
  $text =~ s/\@FILL:(\d+)\@/'a' x $1/ge;
  $text =~ s/\@(IP|PORT|RIP|RPORT|TRANSPORT|BRANCH|CALLID|TAG)\@/$vars{$1}/g;
  my %escapes = (r => "\r", n => "\n");
  $text =~ s/\\(?:x([0-9a-fA-F]{2})|([rn]))/defined $1 ? chr(hex($1)) : $escapes{$2}/ge;
  if ($text =~ /\@LEN\@/) {
    my $separator = index($text, "$eol$eol");
    my $body = $separator < 0 ? 0 : length($text) - $separator - 2 * length($eol);
    $text =~ s/\@LEN\@/$body/g;
  }
  return $text;
}

sub send_bytes {
  my ($bytes) = @_;
  if ($tcp) {
    my $off = 0;
    while ($off < length $bytes) {
      my $n = syswrite($sock, $bytes, length($bytes) - $off, $off);
      return 0 unless defined $n;
      $off += $n;
    }
    return 1;
  }
  return defined send($sock, $bytes, 0);
}

# Reads what arrives until `deadline`; returns (list of SIP messages as text, closed flag,
# raw bytes that were not SIP).
my $stream = '';
sub receive_until {
  my ($deadline, $want_final) = @_;
  my (@messages, $closed, $other);
  $other = '';
  while (1) {
    my $left = $deadline - time_hires();
    last if $left <= 0;
    last unless $select->can_read($left);
    my $buf = '';
    if ($tcp) {
      my $n = sysread($sock, $buf, 1 << 20);
      if (!$n) { $closed = 1; last; }
      $stream .= $buf;
      # Split complete messages (header block + Content-Length bytes).
      while (1) {
        $stream =~ s/^(\r\n)+//;
        my $end = index($stream, "\r\n\r\n");
        last if $end < 0;
        my $head = substr($stream, 0, $end + 4);
        my $len = $head =~ /^(?:Content-Length|l)\s*:\s*(\d+)/mi ? $1 : 0;
        last if length($stream) < $end + 4 + $len;
        push @messages, substr($stream, 0, $end + 4 + $len, '');
      }
      $other .= $buf if $buf =~ /^(\r\n)+$/;
      if (length $stream && $stream !~ /^S(I(P\/?)?)?/) { $other .= $stream; $stream = q(); }
    } else {
      recv($sock, $buf, 1 << 17, 0);
      if ($buf =~ /^SIP\//) { push @messages, $buf; } else { $other .= $buf; }
    }
    if (@messages) {
      my ($code) = $messages[-1] =~ /^SIP\/2\.0 (\d{3})/;
      last if !$want_final || (defined $code && $code >= 200);
      $deadline = deadline_in(3) if defined $code && $code < 200 && $want_final == 1;
      $want_final = 2;  # extend only once
    }
  }
  return (\@messages, $closed, $other);
}

sub time_hires {
  # Time::HiRes is in perl, not perl-base: without it whole seconds (waits get up to a
  # second longer, which only costs time).
  return $have_hires ? Time::HiRes::time() : time;
}
sub deadline_in { return time_hires() + $_[0] + ($have_hires ? 0 : 1); }

sub header {
  my ($msg, $name, $short) = @_;
  my $re = defined $short ? qr/^(?:\Q$name\E|\Q$short\E)\s*:\s*(.*?)\r?$/mi
                          : qr/^\Q$name\E\s*:\s*(.*?)\r?$/mi;
  return $msg =~ $re ? $1 : undef;
}

# ACK (and for a 2xx, BYE) an INVITE's final response so nothing is left retransmitting.
sub acknowledge {
  my ($request, $response) = @_;
  my ($method, $uri) = $request =~ /^(\S+) (\S+) SIP\/2\.0/ or return;
  return unless $method eq 'INVITE';
  my ($code) = $response =~ /^SIP\/2\.0 (\d{3})/;
  return unless defined $code && $code >= 200;
  my $via = header($request, 'Via', 'v');
  my $from = header($request, 'From', 'f');
  my $callid = header($request, 'Call-ID', 'i');
  my $cseq = header($request, 'CSeq');
  my $to = header($response, 'To', 't');
  return unless defined $via && defined $from && defined $callid && defined $cseq && defined $to;
  my ($seq) = $cseq =~ /^(\d+)/ or return;
  if ($code >= 300) {
    send_bytes("ACK $uri SIP/2.0\r\nVia: $via\r\nFrom: $from\r\nTo: $to\r\nCall-ID: $callid\r\n"
               . "CSeq: $seq ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    return;
  }
  my $contact = header($response, 'Contact', 'm');
  my ($target) = defined $contact && $contact =~ /<([^>]+)>/ ? ($1) : ($uri);
  (my $ack_via = $via) =~ s/branch=[^;\s]+/branch=z9hG4bK-ack-$serial-$$/;
  send_bytes("ACK $target SIP/2.0\r\nVia: $ack_via\r\nFrom: $from\r\nTo: $to\r\n"
             . "Call-ID: $callid\r\nCSeq: $seq ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
  (my $bye_via = $via) =~ s/branch=[^;\s]+/branch=z9hG4bK-bye-$serial-$$/;
  my $next = $seq + 1;
  send_bytes("BYE $target SIP/2.0\r\nVia: $bye_via\r\nFrom: $from\r\nTo: $to\r\n"
             . "Call-ID: $callid\r\nCSeq: $next BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
  receive_until(deadline_in(2), 1);
}

if (defined $opt{flood}) {
  my $sent = 0;
  for (1 .. $opt{flood}) { $sent += send_bytes(build()) ? 1 : 0; }
  my $replies = 0;
  my $deadline = deadline_in($opt{wait});
  while (1) {
    my $left = $deadline - time_hires();
    last if $left <= 0 || !$select->can_read($left);
    my $buf = '';
    if ($tcp) { sysread($sock, $buf, 1 << 20) or last; } else { recv($sock, $buf, 1 << 17, 0); }
    $replies += () = $buf =~ /^SIP\/2\.0 /mg;
  }
  print "sent=$sent replies=$replies\n";
  exit 0;
}

my $request = build();
send_bytes($request) or do { print "send failed: $!\n"; exit 0; };
my ($messages, $closed, $other) = receive_until(deadline_in($opt{wait}), 1);
if (@$messages) {
  my ($final) = grep { /^SIP\/2\.0 [2-6]\d\d/ } @$messages;
  my $chosen = defined $final ? $final : $messages->[-1];
  my ($line) = $chosen =~ /^([^\r\n]*)/;
  print "$line\n";
  if (defined $opt{header}) {
    my $value = header($chosen, $opt{header});
    print "$opt{header}: ", (defined $value ? $value : "(none)"), "\n";
  }
  acknowledge($request, $chosen) if defined $final;
} elsif ($other =~ /^(\r\n)+$/) {
  print "pong\n";
} elsif (length($other) >= 20 && ord($other) == 1) {
  printf "stun: response type 0x%02x%02x\n", ord($other), ord(substr($other, 1, 1));
} elsif (length $other) {
  (my $shown = substr($other, 0, 40)) =~ s/[^\x20-\x7e]/./g;
  print "garbage: $shown\n";
} elsif ($closed) {
  print "closed\n";
} else {
  print "silence\n";
}
