//! `GET Batch/RetailCustomer/{retailCustomerId}` (the `customerResourceURI`):
//! the customer.xsd data (Customer, CustomerAccount, a ServiceLocation and
//! a Meter per granted meter), only for an access token whose grant has
//! account details (FB 51 / 54-62, or the older 46).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::AppState;
use crate::error::ResourceError;
use crate::espi::bearer;
use crate::espi::resources::{atom, sub_of};
use crate::espi::writer::{self, Head, seg};
use crate::store::TokenKind;

/// The handler.
pub async fn retail_customer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ResourceError> {
    let tok = bearer(&state, &headers).await?;
    if tok.kind != TokenKind::Access || tok.customer_id.as_deref() != Some(id.as_str()) {
        return Err(ResourceError::InsufficientScope);
    }
    let auth_id = tok
        .authorization_id
        .as_deref()
        .ok_or(ResourceError::InsufficientScope)?;
    let a = state
        .store()
        .authorization(auth_id)
        .await?
        .ok_or(ResourceError::NotFound)?;
    let sub = sub_of(&state, &a).await?;
    if !sub.grant.customer {
        return Err(ResourceError::InsufficientScope);
    }
    let c = state
        .store()
        .customer(&a.customer_id)
        .await?
        .ok_or(ResourceError::NotFound)?;
    let base = state.url(&format!(
        "/espi/1_1/resource/Batch/RetailCustomer/{}",
        seg(&c.customer_id)
    ));
    let rc = state.url(&format!(
        "/espi/1_1/resource/RetailCustomer/{}",
        seg(&c.customer_id)
    ));
    let at = a.granted_at;
    let head = |key: String, href: String, up: String, title: &str| Head {
        key,
        href,
        up: Some(up),
        related: vec![],
        title: title.to_string(),
        published: at,
        updated: at,
    };
    let mut buf = Vec::new();
    writer::feed_start(
        &mut buf,
        &format!("retailcustomer/{}/{}", c.customer_id, a.authorization_id),
        &base,
        "Green Button Retail Customer",
        state.now(),
    );
    let customer_href = format!("{rc}/Customer/1");
    writer::entry(
        &mut buf,
        &head(
            format!("customer/{}", c.customer_id),
            customer_href.clone(),
            format!("{rc}/Customer"),
            "Customer",
        ),
        false,
        |x| {
            x.open("cust:Customer")
                .leaf("cust:customerName", &c.display_name)
                .close("cust:Customer");
        },
    );
    if let Some(account) = &c.account_number {
        writer::entry(
            &mut buf,
            &head(
                format!("customeraccount/{}", c.customer_id),
                format!("{customer_href}/CustomerAccount/1"),
                format!("{customer_href}/CustomerAccount"),
                "Customer Account",
            ),
            false,
            |x| {
                x.open("cust:CustomerAccount")
                    .leaf("cust:accountId", account)
                    .close("cust:CustomerAccount");
            },
        );
    }
    let sl = format!("{customer_href}/CustomerAccount/1/CustomerAgreement/1/ServiceLocation");
    for m in &sub.meters {
        writer::entry(
            &mut buf,
            &head(
                format!("servicelocation/{}", m.said),
                format!("{sl}/{}", seg(&m.said)),
                sl.clone(),
                &m.label,
            ),
            false,
            |x| {
                x.open("cust:ServiceLocation").open("cust:mainAddress");
                if let Some(addr) = &m.address {
                    x.open("cust:streetDetail")
                        .leaf("cust:addressGeneral", addr)
                        .close("cust:streetDetail");
                }
                if let Some(zip) = &c.zip {
                    x.leaf("cust:postalCode", zip);
                }
                x.close("cust:mainAddress").close("cust:ServiceLocation");
            },
        );
        let interval = state
            .store()
            .reading_intervals(&m.said)
            .await?
            .first()
            .copied();
        writer::entry(
            &mut buf,
            &head(
                format!("meter/{}", m.said),
                format!("{sl}/{}/Meter/1", seg(&m.said)),
                format!("{sl}/{}/Meter", seg(&m.said)),
                "Meter",
            ),
            false,
            |x| {
                x.open("cust:Meter").leaf("cust:serialNumber", &m.said);
                if let Some(i) = interval {
                    x.leaf("cust:intervalLength", i);
                }
                x.close("cust:Meter");
            },
        );
    }
    writer::feed_end(&mut buf);
    Ok(atom(buf))
}
