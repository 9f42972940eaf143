//! Exports `nasbox:strategy/strategy@0.1.0` with the right `info` but an
//! `ask` that takes a string: the host must refuse it at load, naming `ask`
//! and the signature the contract expects, not trap at the first call.

wit_bindgen::generate!({
    inline: "
        package nasbox:strategy@0.1.0;
        interface strategy {
            record config-key {
                name: string,
                default: string,
                description: string,
            }
            record strategy-info {
                name: string,
                version: string,
                description: string,
                config: list<config-key>,
                supports-snapshot: bool,
            }
            info: func() -> strategy-info;
            ask: func(n: string) -> u32;
        }
        world wrong {
            export strategy;
        }
    ",
});

use exports::nasbox::strategy::strategy::{Guest, StrategyInfo};

struct Wrong;

impl Guest for Wrong {
    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "wrong-signature".into(),
            version: "0.0.0".into(),
            description: "ask takes a string".into(),
            config: vec![],
            supports_snapshot: false,
        }
    }

    fn ask(n: String) -> u32 {
        n.len() as u32
    }
}

export!(Wrong);
