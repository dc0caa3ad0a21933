//! An SMTP sink inside the load tool: the server's mail goes to it over loopback, as it
//! would to a relay, and each message comes out of a channel with its recipients. The
//! protocol is `mailin`'s; this file only moves lines between a socket and a session.

use std::net::SocketAddr;

use mailin::{Action, Handler, Response, SessionBuilder, response};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::mpsc,
};

/// One message as the sink received it.
pub struct Mail {
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

/// Collects one session's messages and hands each over when its data ends.
struct Collector {
    to: Vec<String>,
    data: Vec<u8>,
    out: mpsc::UnboundedSender<Mail>,
}

impl Handler for Collector {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let mail = Mail {
            to: std::mem::take(&mut self.to),
            data: std::mem::take(&mut self.data),
        };
        // A closed receiver means the scenario is over; the mail is still acknowledged.
        let _ = self.out.send(mail);
        response::OK
    }
}

/// Listens on `addr` and returns where it listens and the messages as they arrive.
pub async fn start(
    addr: SocketAddr,
) -> anyhow::Result<(SocketAddr, mpsc::UnboundedReceiver<Mail>)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let (out, mail) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let builder = SessionBuilder::new("rollcall-bench");
        loop {
            // Out of file descriptors, say: wait and go on, or every later mail is lost.
            let Ok((socket, peer)) = listener.accept().await else {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            };
            let collector = Collector {
                to: Vec::new(),
                data: Vec::new(),
                out: out.clone(),
            };
            let session = builder.build(peer.ip(), collector);
            tokio::spawn(serve(socket, session));
        }
    });
    Ok((bound, mail))
}

async fn serve(socket: TcpStream, mut session: mailin::Session<Collector>) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut read = BufReader::new(read);
    write.write_all(&session.greeting().buffer()?).await?;
    let mut line = Vec::with_capacity(128);
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let answer = session.process(&line);
        match answer.action {
            Action::NoReply => {}
            Action::Reply => write.write_all(&answer.buffer()?).await?,
            Action::Close | Action::UpgradeTls => {
                write.write_all(&answer.buffer()?).await?;
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The server's own mail transport delivers to the sink, and the tool finds the
    /// signer and the token in what arrives.
    #[tokio::test]
    async fn the_servers_mail_arrives_with_its_signer_and_token() {
        let (addr, mut mail) = start(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let mailer = rollcall::mail::Mailer::from_url(
            &format!("smtp://{addr}"),
            "Rollcall <noreply@example.org>",
        )
        .unwrap();
        let token = "A".repeat(20) + "-_" + &"z".repeat(21);
        let text =
            format!("Press the button on this page to count: http://127.0.0.1:3000/v/{token}\n");
        mailer
            .send(
                &crate::signer_email(7, 3),
                "Please confirm",
                &text,
                &format!("<p>{text}</p>"),
            )
            .await
            .unwrap();
        let received = mail.recv().await.unwrap();
        let to = received.to.iter().find_map(|to| crate::signer_of(to, 7));
        assert_eq!(to, Some(3));
        let body = String::from_utf8_lossy(&received.data);
        assert_eq!(crate::token_in(&body), Some(token));
        assert_eq!(crate::signer_of(&crate::signer_email(8, 3), 7), None);
    }
}
