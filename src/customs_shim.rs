pub const MAX_MESSAGE_BYTES: usize = 10 << 20;
#[derive(Debug, Clone)]
pub struct BaseTransfer {
    pub cop_code: String,
    pub cop_name: String,
    pub dxp_mode: String,
    pub dxp_id: String,
    pub note: Option<String>,
}
