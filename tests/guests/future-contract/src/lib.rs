//! Exports `nasbox:strategy/strategy@9.0.0`: the host must refuse it by
//! version instead of failing somewhere inside a call.

wit_bindgen::generate!({
    inline: "
        package nasbox:strategy@9.0.0;
        interface strategy {
            info: func() -> string;
        }
        world later {
            export strategy;
        }
    ",
});

struct Future;

impl exports::nasbox::strategy::strategy::Guest for Future {
    fn info() -> String {
        "from the future".into()
    }
}

export!(Future);
