//! Rights policies: grants must name principals or groups of the cluster, grants to groups
//! apply to their members, rights policy templates and their signed list.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use rms_cert::{Grant, LicenseBody, RsaSigner, UsageRight, UsageRights};
use rms_roles::*;
use rms_store::IssuedKind;

fn rights(list: &[UsageRight]) -> UsageRights {
    UsageRights::from_rights(list.iter().copied())
}

#[tokio::test]
async fn a_grant_to_a_principal_that_does_not_exist_is_refused_at_publish() {
    let w = world().await;
    w.licensing_admin.add_principal("alice", &[]).await.unwrap();
    let cluster_key = w
        .licensing
        .cluster()
        .chain()
        .leaf()
        .tbs_certificate()
        .subject_public_key_info()
        .clone();
    let request = PublishRequest {
        content_id: "doc-typo".into(),
        grants: vec![
            Grant::new("alice", rights(&[UsageRight::View])).unwrap(),
            Grant::new("alcie", rights(&[UsageRight::View])).unwrap(),
        ],
        template: None,
        wrapped_content_key: rms_cert::wrap_content_key(&cluster_key, &[3u8; 32]).unwrap(),
    };
    let e = w
        .licensing
        .publish(&RequestContext::bearer(&w.licensing_token), &request)
        .await
        .unwrap_err();
    assert_eq!(
        (e.class(), e.code()),
        (ErrorClass::Unprocessable, "unknown_principal"),
        "{e}"
    );
    assert!(e.to_string().contains("\"alcie\""), "{e}");
    let store = w.licensing.cluster().store();
    assert_eq!(
        store
            .count_issued(IssuedKind::PublishingLicense)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_grant_to_a_group_applies_to_its_members() {
    let w = world().await;
    w.licensing_admin.add_group("editors").await.unwrap();
    let (_, alice_token) = w
        .licensing_admin
        .add_principal("alice", &["editors".to_owned()])
        .await
        .unwrap();
    let (_, bob_token) = w.licensing_admin.add_principal("bob", &[]).await.unwrap();
    let (publishing, _) = publish_for(
        &w,
        vec![
            Grant::new("editors", rights(&[UsageRight::View, UsageRight::Edit])).unwrap(),
            Grant::new("alice", rights(&[UsageRight::Print])).unwrap(),
        ],
    )
    .await;
    let key = rms_cert::Signer::public_key(&RsaSigner::generate(2048).unwrap());

    // Alice: her own grant and her group's, together.
    let license = w
        .licensing
        .use_license(
            &RequestContext::bearer(&alice_token),
            &publishing,
            key.clone(),
        )
        .await
        .unwrap();
    let LicenseBody::Use(body) = license.body() else {
        panic!("not a use license")
    };
    assert_eq!(body.principal(), "alice");
    assert_eq!(
        body.rights(),
        rights(&[UsageRight::View, UsageRight::Edit, UsageRight::Print])
    );
    verifier(&w.authority_pem)
        .verify_license(&license, &[], w.clock.now())
        .unwrap();

    // Bob is in no granted group.
    let e = w
        .licensing
        .use_license(
            &RequestContext::bearer(&bob_token),
            &publishing,
            key.clone(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "not_granted", "{e}");

    // Once Bob joins the group (through another handle on the database), the next request
    // grants him the group's rights.
    w.licensing_admin
        .add_member("bob", "editors")
        .await
        .unwrap();
    let license = w
        .licensing
        .use_license(&RequestContext::bearer(&bob_token), &publishing, key)
        .await
        .unwrap();
    let LicenseBody::Use(body) = license.body() else {
        panic!("not a use license")
    };
    assert_eq!(body.rights(), rights(&[UsageRight::View, UsageRight::Edit]));
}

fn template(name: &str, grants: &[(&str, &[UsageRight])]) -> TemplateSpec {
    TemplateSpec {
        name: name.into(),
        description: format!("the {name} template"),
        grants: grants
            .iter()
            .map(|(p, r)| rms_cert::TemplateGrant::new(p, rights(r)).unwrap())
            .collect(),
        content_validity: None,
        use_license_lifetime: None,
    }
}

/// Publishes `content_id` with the template `name` as the holder of `token`.
async fn publish_with_template(
    w: &World,
    token: &str,
    content_id: &str,
    name: &str,
) -> Result<rms_cert::SignedLicense, RoleError> {
    let cluster_key = w
        .licensing
        .cluster()
        .chain()
        .leaf()
        .tbs_certificate()
        .subject_public_key_info()
        .clone();
    let request = PublishRequest {
        content_id: content_id.into(),
        grants: vec![],
        template: Some(name.into()),
        wrapped_content_key: rms_cert::wrap_content_key(&cluster_key, &[9u8; 32]).unwrap(),
    };
    w.licensing
        .publish(&RequestContext::bearer(token), &request)
        .await
}

#[tokio::test]
async fn templates_are_administered_and_refuse_unknown_principals() {
    let w = world().await;
    w.licensing_admin.add_group("employees").await.unwrap();
    let mut spec = template("confidential", &[("employees", &[UsageRight::View])]);
    spec.use_license_lifetime = Some("30d".parse().unwrap());
    let added = w.licensing_admin.add_template(&spec).await.unwrap();
    assert_eq!(added.name, "confidential");
    assert_eq!(added.use_license_lifetime, Some(time::Duration::days(30)));
    assert_eq!(
        w.licensing_admin.templates().await.unwrap(),
        vec![added.clone()]
    );
    assert_eq!(
        w.licensing_admin.template("confidential").await.unwrap(),
        added
    );

    let e = w.licensing_admin.add_template(&spec).await.unwrap_err();
    assert_eq!(e.code(), "already_exists", "{e}");
    let e = w
        .licensing_admin
        .add_template(&template("typo", &[("employes", &[UsageRight::View])]))
        .await
        .unwrap_err();
    assert_eq!(
        (e.class(), e.code()),
        (ErrorClass::Unprocessable, "unknown_principal"),
        "{e}"
    );
    assert!(e.to_string().contains("\"employes\""), "{e}");
    let e = w
        .licensing_admin
        .add_template(&template(
            "bad name!",
            &[("employees", &[UsageRight::View])],
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_name", "{e}");

    w.licensing_admin
        .remove_template("confidential")
        .await
        .unwrap();
    assert!(w.licensing_admin.templates().await.unwrap().is_empty());
    let e = w
        .licensing_admin
        .remove_template("confidential")
        .await
        .unwrap_err();
    assert_eq!(e.class(), ErrorClass::NotFound, "{e}");
}

#[tokio::test]
async fn publishing_with_a_template_records_it_and_a_later_change_leaves_old_licenses_alone() {
    let w = world().await;
    w.licensing_admin.add_group("employees").await.unwrap();
    let (_, alice_token) = w
        .licensing_admin
        .add_principal("alice", &["employees".to_owned()])
        .await
        .unwrap();
    let mut spec = template(
        "confidential",
        &[("employees", &[UsageRight::View, UsageRight::Print])],
    );
    spec.use_license_lifetime = Some("30d".parse().unwrap());
    spec.content_validity = Some("90d".parse().unwrap());
    let added = w.licensing_admin.add_template(&spec).await.unwrap();

    let before = publish_with_template(&w, &w.licensing_token, "doc-1", "confidential")
        .await
        .unwrap();
    let LicenseBody::Publishing(body) = before.body() else {
        panic!("not a publishing license")
    };
    let recorded = body.template().unwrap();
    assert_eq!(recorded.id(), added.id);
    assert_eq!(
        recorded.use_license_lifetime(),
        Some(time::Duration::days(30))
    );
    assert_eq!(body.grants().len(), 1);
    assert_eq!(
        body.grants()[0].expires(),
        Some(w.clock.now() + time::Duration::days(90))
    );

    // The template changes: view only, and use licenses of a day.
    let mut changed = template("confidential", &[("employees", &[UsageRight::View])]);
    changed.use_license_lifetime = Some("1d".parse().unwrap());
    let replaced = w.licensing_admin.replace_template(&changed).await.unwrap();
    assert_eq!(replaced.id, added.id, "replacing keeps the id");

    let key = rms_cert::Signer::public_key(&RsaSigner::generate(2048).unwrap());
    // A member of the granted group opens the old content with the old rights and lifetime.
    let old = w
        .licensing
        .use_license(&RequestContext::bearer(&alice_token), &before, key.clone())
        .await
        .unwrap();
    let LicenseBody::Use(ul) = old.body() else {
        panic!("not a use license")
    };
    assert_eq!(ul.principal(), "alice");
    assert_eq!(ul.rights(), rights(&[UsageRight::View, UsageRight::Print]));
    assert_eq!(
        old.validity().not_after(),
        w.clock.now() + time::Duration::days(30)
    );
    // New content gets the new policy.
    let after = publish_with_template(&w, &w.licensing_token, "doc-2", "confidential")
        .await
        .unwrap();
    let new = w
        .licensing
        .use_license(&RequestContext::bearer(&alice_token), &after, key)
        .await
        .unwrap();
    let LicenseBody::Use(ul) = new.body() else {
        panic!("not a use license")
    };
    assert_eq!(ul.rights(), rights(&[UsageRight::View]));
    assert_eq!(
        new.validity().not_after(),
        w.clock.now() + time::Duration::days(1)
    );

    // Unknown templates, and a template with grants, are refused.
    let e = publish_with_template(&w, &w.licensing_token, "doc-3", "secret")
        .await
        .unwrap_err();
    assert_eq!(
        (e.class(), e.code()),
        (ErrorClass::Unprocessable, "unknown_template"),
        "{e}"
    );
}

#[tokio::test]
async fn the_template_list_is_signed_and_verifies_offline() {
    let w = world().await;
    w.licensing_admin.add_group("employees").await.unwrap();
    let added = w
        .licensing_admin
        .add_template(&template(
            "confidential",
            &[("employees", &[UsageRight::View])],
        ))
        .await
        .unwrap();
    let signed = w
        .licensing
        .template_list(&RequestContext::bearer(&w.licensing_token))
        .await
        .unwrap();
    let authority = client::Authority::from_pem(&w.authority_pem).unwrap();
    let list = authority
        .verify_template_list(signed.der(), w.clock.now())
        .unwrap();
    assert_eq!(list.templates(), &[added]);
    assert_eq!(list.next_update(), w.clock.now() + TEMPLATE_LIST_LIFETIME);

    // Stale once past its next update.
    let e = authority
        .verify_template_list(signed.der(), w.clock.now() + time::Duration::days(2))
        .unwrap_err();
    assert_eq!(e.code(), "stale_template_list", "{e}");
    // A tampered byte, and a license given as a list, are refused.
    let mut tampered = signed.der().to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(
        authority
            .verify_template_list(&tampered, w.clock.now())
            .is_err()
    );
    let (publishing, _) = publish_for(
        &w,
        vec![Grant::new("employees", rights(&[UsageRight::View])).unwrap()],
    )
    .await;
    let e = authority
        .verify_template_list(publishing.der(), w.clock.now())
        .unwrap_err();
    assert_eq!(e.code(), "malformed_template_list", "{e}");
    // Another authority's client does not trust it.
    let (_, _, _, _, other, _) = root_only().await;
    let stranger = client::Authority::from_pem(&other.authority_pem).unwrap();
    assert!(
        stranger
            .verify_template_list(signed.der(), w.clock.now())
            .is_err()
    );
    // Without a token, no list.
    let e = w
        .licensing
        .template_list(&RequestContext::anonymous())
        .await
        .unwrap_err();
    assert_eq!(e.class(), ErrorClass::Forbidden, "{e}");
}

mod properties {
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn authority() -> &'static rms_roles::client::Authority {
        static AUTHORITY: OnceLock<rms_roles::client::Authority> = OnceLock::new();
        AUTHORITY.get_or_init(|| {
            let issuer = rms_cert::Issuer::create_authority(
                "CN=Property Authority".parse().unwrap(),
                std::sync::Arc::new(rms_cert::RsaSigner::generate(2048).unwrap()),
                rms_policy::ValidityPolicy::default(),
                time::OffsetDateTime::now_utc(),
            )
            .unwrap();
            let pem = rms_cert::certificate_to_pem(issuer.certificate()).unwrap();
            rms_roles::client::Authority::from_pem(&pem).unwrap()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Arbitrary bytes as a template list: refused, never a panic.
        #[test]
        fn decoding_arbitrary_bytes_as_a_template_list_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..2048)
        ) {
            let _ = rms_cert::LicenseBody::from_der(rms_cert::LicenseKind::TemplateList, &bytes);
            prop_assert!(authority()
                .verify_template_list(&bytes, time::OffsetDateTime::now_utc())
                .is_err());
        }

        /// A DER SEQUENCE header in front of arbitrary bytes reaches deeper into the decoder.
        #[test]
        fn a_sequence_of_arbitrary_content_never_panics(
            content in proptest::collection::vec(any::<u8>(), 0..300)
        ) {
            let mut bytes = vec![0x30, 0x82];
            bytes.extend_from_slice(&u16::try_from(content.len()).unwrap().to_be_bytes());
            bytes.extend_from_slice(&content);
            let _ = rms_cert::LicenseBody::from_der(rms_cert::LicenseKind::TemplateList, &bytes);
        }
    }
}
